/**
 * A fix for @platformatic/kafka 1.x (seen on 1.35.0) that a consumer needs to survive a broker restart.
 *
 * The bug: `Reader.readTaggedFields()` reads the tagged-field section of a flexible-version response as
 * "a signed varint byte length, then skip that many bytes". The Kafka protocol encodes it as an unsigned varint
 * COUNT of fields, each one `tag (uvarint) size (uvarint) data[size]`. With no tagged field (count 0) both
 * read one byte and agree, which is why it works most of the time. With one field (byte 0x01, -1 as a zigzag
 * varint) the reader skips nothing and loses its place; the rest of the response is read misaligned and fails
 * with "Out of bounds." (a ProtocolError from @platformatic/dynamic-buffer), and every retry gets the same
 * response.
 *
 * When it bites: after a broker restart the partitions' leader epochs go up; a consumer stream that fetches
 * with the old epoch (it takes the epoch from cached metadata, up to metadataMaxAge = 5 s old) gets
 * FENCED_LEADER_EPOCH with the `CurrentLeader` tagged field (KIP-951, Fetch v12+), cannot parse that, retries
 * the same fetch until `retries` are spent ("fetch failed 21 times.") and the stream is destroyed: the consumer
 * stops consuming for good. Seen here in 4 of 5 runs of test/kafka-smoke.test.ts (the others refreshed the
 * metadata in time), and in 3 of 3 runs of a plain one-consumer reproduction; with this fix, 0 failures.
 *
 * fixTaggedFields() replaces the method on Reader.prototype with a correct one, only when a probe shows the
 * installed version has the bug (so it does nothing once the library is fixed). Process-wide and idempotent.
 * src/kafka/ applies it when a worker starts (and test/support/kafka-client.ts re-exports it for tests).
 */
import { Reader } from '@platformatic/kafka';

/** True when the installed Reader parses one tagged field correctly. */
function readsTaggedFieldsCorrectly(): boolean {
  // One tagged field: count 1, tag 0, size 2, data aa bb; then a sentinel byte.
  const reader = Reader.from(Buffer.from([0x01, 0x00, 0x02, 0xaa, 0xbb, 0x7f]));
  try {
    reader.readTaggedFields();
  } catch {
    return false;
  }
  return reader.position === 5;
}

let patched = false;

/** Fixes Reader.prototype.readTaggedFields when the installed version needs it; true when it patched. */
export function fixTaggedFields(): boolean {
  if (patched || readsTaggedFieldsCorrectly()) return patched;
  Reader.prototype.readTaggedFields = function readTaggedFields(this: Reader): void {
    const count = this.readUnsignedVarInt();
    for (let i = 0; i < count; i++) {
      this.readUnsignedVarInt(); // tag
      this.skip(this.readUnsignedVarInt());
    }
  };
  patched = readsTaggedFieldsCorrectly();
  if (!patched) throw new Error('fixTaggedFields: the patched Reader still misreads tagged fields');
  return patched;
}
