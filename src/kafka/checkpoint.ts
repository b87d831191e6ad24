/**
 * Checkpoints of the detect stage in PostgreSQL (the shared state store's database, DATABASE_URL): per
 * consumer group and keyed partition, where to resume and the input offsets already used. Written after a
 * segment's report is durable in the alerts topic and before the keyed offset is committed, so a worker that
 * takes a partition over after a crash or a rebalance replays at most the open segment.
 */
import pg from 'pg';
import type { PartitionCheckpoint } from './partition.js';

export class CheckpointStore {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(databaseUrl: string): Promise<CheckpointStore> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // Workers start together: one creates the table, under a lock (CREATE TABLE IF NOT EXISTS races).
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query("SELECT pg_advisory_xact_lock(hashtext('apiwarden_kafka_checkpoints'))");
      await c.query(`CREATE TABLE IF NOT EXISTS apiwarden_kafka_checkpoints (
        grp text NOT NULL, topic text NOT NULL, part integer NOT NULL, state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (grp, topic, part))`);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      await pool.end();
      throw e;
    } finally {
      c.release();
    }
    return new CheckpointStore(pool);
  }

  async load(group: string, topic: string, partition: number): Promise<PartitionCheckpoint | null> {
    const r = await this.pool.query(
      'SELECT state FROM apiwarden_kafka_checkpoints WHERE grp = $1 AND topic = $2 AND part = $3',
      [group, topic, partition],
    );
    return r.rows.length === 0 ? null : (r.rows[0].state as PartitionCheckpoint);
  }

  async save(group: string, topic: string, partition: number, state: PartitionCheckpoint): Promise<void> {
    await this.pool.query(
      `INSERT INTO apiwarden_kafka_checkpoints (grp, topic, part, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (grp, topic, part) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [group, topic, partition, JSON.stringify(state)],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
