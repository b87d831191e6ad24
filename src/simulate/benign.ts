/**
 * Benign traffic: customers on the web and in the mobile app, staff, partners, the payment provider,
 * search-engine crawlers and monitors, plus the legitimate events that look like attacks (a flash sale, a
 * short upstream incident, carrier NAT). See docs/simulator.md for the model and its parameters.
 */
import { Agent, type Call, type Client, makeClient, type Sim } from './engine.js';
import type { Person } from './pii.js';
import { Rng } from './random.js';
import { makeJwt } from './render.js';
import type { Order, Shop } from './shop.js';
import { CATEGORIES, COUPONS, SEARCH_TERMS, USER_ID_BASE } from './site.js';
import {
  BINGBOT_PREFIXES,
  GOOGLEBOT_PREFIXES,
  hostingIp,
  PARTNER_UAS,
  PAYMENT_PROVIDER_IPS,
  PAYMENT_PROVIDER_UA,
  residentialIp,
  UA,
} from './vocab.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Relative traffic per hour of the day (the log's clock): a night trough around 03:00-04:00, a morning
 * rise, a lunch bump and the evening peak at 20:00-21:00, about 10x the trough.
 */
export const DIURNAL = [
  0.32, 0.22, 0.16, 0.13, 0.13, 0.18, 0.32, 0.55, 0.8, 0.95, 1.0, 1.05, 1.15, 1.05, 1.0, 0.98, 1.0, 1.05, 1.2,
  1.4, 1.55, 1.5, 1.1, 0.62,
];
const DIURNAL_CDF = (() => {
  const c = new Float64Array(24);
  let s = 0;
  for (let h = 0; h < 24; h++) c[h] = s += DIURNAL[h]!;
  for (let h = 0; h < 24; h++) c[h]! /= s;
  return c;
})();

/** A time of day (ms since midnight) drawn from the diurnal curve. */
export function timeOfDay(r: Rng): number {
  const u = r.next();
  let h = 0;
  while (h < 23 && DIURNAL_CDF[h]! < u) h++;
  return h * HOUR + r.next() * HOUR;
}

/** Think time between two screens of a session: log-normal, median 8 s, sigma 1.0 (capped at 10 min). */
export const THINK_MEDIAN_MS = 8_000;
export const THINK_SIGMA = 1.0;
export const thinkTime = (r: Rng): number => Math.min(r.logNormal(THINK_MEDIAN_MS, THINK_SIGMA), 600_000);

/** A customer (registered) or a guest visitor. */
export interface User {
  /** Customer id (USER_ID_BASE + n), or -1 for a guest. */
  id: number;
  kind: 'browser' | 'mobile';
  person: Person | null;
  rng: Rng;
  ua: string;
  deviceId: string | null;
  /** The address sessions come from (mobile users on carrier NAT share one with many others). */
  homeIp: string;
  nat: boolean;
  h2: boolean;
  /** Raw JWT and its expiry (ms), when logged in. */
  token: string | null;
  tokenExp: number;
  orders: Order[];
  /** Newer app builds call the v2 catalog API; older ones v1. */
  v2: boolean;
  sessionsPerDay: number;
  /** Logs in with an SMS code instead of a password. */
  smsLogin: boolean;
}

export interface PopulationOptions {
  seed: number;
  start: number;
  end: number;
  users: number;
}

/** Carrier-grade NAT exits: many mobile customers share each of these. */
export const NAT_POOL_SIZE = 12;

export class Population {
  readonly users: User[] = [];
  readonly guests: User[] = [];
  readonly natIps: string[];
  constructor(
    readonly shop: Shop,
    o: PopulationOptions,
  ) {
    const root = new Rng(o.seed).derive('population');
    // China Mobile / Unicom CGNAT exits.
    this.natIps = Array.from(
      { length: NAT_POOL_SIZE },
      () => `${root.pick(['117.136', '223.104', '112.97'])}.${root.int(0, 255)}.${root.int(1, 254)}`,
    );
    for (let i = 0; i < o.users; i++)
      this.users.push(this.makeUser(root.derive(`u${i}`), USER_ID_BASE + i, o.start));
    const guests = Math.round(o.users * 0.5);
    for (let i = 0; i < guests; i++) this.guests.push(this.makeUser(root.derive(`g${i}`), -1, o.start));
  }

  private makeUser(r: Rng, id: number, start: number): User {
    const mobile = r.chance(0.45);
    const person = id >= 0 ? this.shop.site.person(id) : null;
    const cn = person === null ? r.chance(0.6) : person.country === 'CN';
    const nat = mobile && r.chance(0.25);
    const u: User = {
      id,
      kind: mobile ? 'mobile' : 'browser',
      person,
      rng: r,
      ua: mobile ? r.pick(UA.apps) : r.pick(UA.browsers),
      deviceId: mobile ? r.uuid() : null,
      homeIp: nat ? this.natIps[r.int(0, this.natIps.length - 1)]! : residentialIp(r, cn),
      nat,
      h2: !mobile && r.chance(0.8),
      token: null,
      tokenExp: 0,
      orders: [],
      v2: r.chance(0.7),
      // Most customers come by now and then, a few every day several times.
      sessionsPerDay: id >= 0 ? Math.min(6, r.logNormal(0.55, 0.9)) : Math.min(2, r.logNormal(0.3, 0.6)),
      smsLogin: cn && r.chance(0.3),
    };
    if (id >= 0) {
      // Remembered logins: a token from an earlier visit, valid for a while.
      if (r.chance(0.55)) {
        const iat = start - r.int(0, 20) * HOUR;
        u.token = makeJwt(r, String(id), Math.floor(iat / 1000), 'shop');
        u.tokenExp = iat + (mobile ? 7 : 1) * DAY;
      }
      const n = r.int(0, 4);
      for (let k = 0; k < n; k++) {
        const productId = this.shop.pickProduct(r);
        const qty = r.int(1, 3);
        u.orders.push({ id: r.uuid(), productId, qty, amount: this.shop.amountFor(productId, qty, null) });
      }
    }
    return u;
  }

  /** Sessions of every user and guest over [start, end), on the diurnal curve (weekends a little quieter). */
  schedule(sim: Sim, o: PopulationOptions): number {
    let n = 0;
    const firstDay = Math.floor(o.start / DAY) * DAY;
    for (const list of [this.users, this.guests]) {
      for (const u of list) {
        const r = u.rng.derive('sessions');
        for (let day = firstDay; day < o.end; day += DAY) {
          const dow = new Date(day).getUTCDay();
          const k = r.poisson(u.sessionsPerDay * (dow === 0 || dow === 6 ? 0.85 : 1));
          for (let s = 0; s < k; s++) {
            const t = day + timeOfDay(r);
            if (t < o.start || t >= o.end) continue;
            sim.add(new SessionAgent(t, r.derive(`s${day}:${s}`), u, this.shop, null));
            n++;
          }
        }
      }
    }
    return n;
  }
}

// ----------------------------------------------------------------------------------------------------------
// Customer sessions: a Markov chain over screens

type Screen =
  | 'home'
  | 'list'
  | 'search'
  | 'detail'
  | 'reviews'
  | 'addCart'
  | 'cart'
  | 'checkout'
  | 'orders'
  | 'orderDetail'
  | 'profile'
  | 'exit';

/** Next-screen probabilities (weights) of the navigation model, documented in docs/simulator.md. */
export const TRANSITIONS: Record<Exclude<Screen, 'exit'>, readonly (readonly [number, Screen])[]> = {
  home: [
    [30, 'list'],
    [25, 'search'],
    [12, 'detail'],
    [6, 'cart'],
    [5, 'orders'],
    [4, 'profile'],
    [18, 'exit'],
  ],
  list: [
    [22, 'list'],
    [45, 'detail'],
    [8, 'search'],
    [25, 'exit'],
  ],
  search: [
    [50, 'detail'],
    [18, 'search'],
    [7, 'list'],
    [25, 'exit'],
  ],
  detail: [
    [12, 'reviews'],
    [14, 'addCart'],
    [20, 'detail'],
    [12, 'list'],
    [8, 'search'],
    [34, 'exit'],
  ],
  reviews: [
    [45, 'detail'],
    [20, 'list'],
    [35, 'exit'],
  ],
  addCart: [
    [50, 'cart'],
    [25, 'detail'],
    [25, 'exit'],
  ],
  cart: [
    [45, 'checkout'],
    [20, 'detail'],
    [35, 'exit'],
  ],
  checkout: [
    [70, 'orderDetail'],
    [30, 'exit'],
  ],
  orders: [
    [45, 'orderDetail'],
    [10, 'orders'],
    [45, 'exit'],
  ],
  orderDetail: [
    [20, 'orders'],
    [80, 'exit'],
  ],
  profile: [
    [20, 'orders'],
    [80, 'exit'],
  ],
};

const NEEDS_LOGIN: ReadonlySet<Screen> = new Set([
  'addCart',
  'cart',
  'checkout',
  'orders',
  'orderDetail',
  'profile',
]);

interface Step {
  /** Wait before this request, ms (default: a short in-page gap). */
  gap?: number;
  make: () => Call | null;
}

/** A scripted request queue with think times between screens; subclasses plan the next screen. */
export abstract class ScriptAgent extends Agent {
  protected readonly queue: Step[] = [];
  constructor(
    t: number,
    rng: Rng,
    readonly client: Client,
  ) {
    super(t, rng);
  }

  /** Fills the queue with the next screen's requests; leaves it empty to end. */
  protected abstract plan(): void;

  /** Gap after a screen, before the next one. */
  protected think(): number {
    return thinkTime(this.rng);
  }

  protected push(make: () => Call | null, gap?: number): void {
    this.queue.push(gap === undefined ? { make } : { make, gap });
  }

  step(sim: Sim): void {
    if (this.queue.length === 0) {
      this.plan();
      if (this.queue.length === 0) {
        this.done = true;
        return;
      }
    }
    const s = this.queue.shift()!;
    const call = s.make();
    if (call !== null) this.emitCall(sim, call);
    const next = this.queue[0];
    this.t += next === undefined ? this.think() : (next.gap ?? 15 + this.rng.exp(120));
  }

  protected emitCall(sim: Sim, call: Call): void {
    sim.emit(this.client, call, this.t, this.rng);
  }
}

export class SessionAgent extends ScriptAgent {
  private screen: Screen = 'home';
  private started = false;
  private product = 0;
  private listPage = 1;
  private category: string;
  private cartItems: number[] = [];
  private readonly v2: boolean;
  private pendingOrder: Order | null = null;
  private sim: Sim | null = null;

  constructor(
    t: number,
    rng: Rng,
    readonly user: User,
    readonly shop: Shop,
    event: string | null,
  ) {
    const ip =
      user.kind === 'mobile' && !user.nat && rng.chance(0.5)
        ? residentialIp(rng, user.person?.country !== 'US')
        : user.homeIp;
    super(
      t,
      rng,
      makeClient({
        kind: user.kind,
        actor: user.id >= 0 ? `user:${user.id}` : `guest:${user.rng.seed.toString(36)}`,
        ip,
        ua: user.ua,
        deviceId: user.deviceId,
        h2: user.h2,
        event,
      }),
    );
    this.category = rng.pick(CATEGORIES);
    this.v2 = user.kind === 'mobile' && user.v2;
  }

  override step(sim: Sim): void {
    this.sim = sim;
    // The token in force when the request leaves: set before the request is made, so a login request does
    // not carry the token its own answer brings.
    const u = this.user;
    this.client.token = u.token !== null && u.tokenExp > this.t ? u.token : null;
    super.step(sim);
  }

  private loggedIn(): boolean {
    return this.user.token !== null && this.user.tokenExp > this.t;
  }

  protected plan(): void {
    const r = this.rng;
    const shop = this.shop;
    if (!this.started) {
      this.started = true;
      this.landing();
      return;
    }
    const table = this.screen === 'exit' ? null : TRANSITIONS[this.screen];
    if (table === null) return;
    const next = r.weighted(table);
    if (NEEDS_LOGIN.has(next) && this.user.id < 0) {
      // Guests: mostly leave; a few sign up (SMS code, then register) and leave after that.
      if (r.chance(0.08)) this.signUp();
      this.screen = 'exit';
      return;
    }
    if (NEEDS_LOGIN.has(next) && !this.loggedIn()) this.login();
    this.screen = next;
    const web = this.user.kind === 'browser';
    switch (next) {
      case 'list': {
        this.listPage = this.screen === 'list' && r.chance(0.6) ? this.listPage + 1 : 1;
        if (r.chance(0.3)) this.category = r.pick(CATEGORIES);
        const page = this.listPage;
        const cat = this.category;
        this.push(() => shop.products(r, cat, page, this.v2));
        if (web) this.images(r.int(4, 8));
        break;
      }
      case 'search': {
        const term = r.pick(SEARCH_TERMS);
        this.push(() => shop.search(r, term, r.chance(0.15) ? 2 : 1));
        if (web) this.images(r.int(3, 6));
        break;
      }
      case 'detail': {
        this.product = shop.pickProduct(r);
        const id = this.product;
        if (web) this.referTo(`/products/${id}`);
        this.push(() => shop.product(r, id, this.v2));
        if (web) this.images(2);
        break;
      }
      case 'reviews': {
        const id = this.product || shop.pickProduct(r);
        this.push(() => shop.reviews(r, id, 1));
        if (r.chance(0.15)) this.push(() => shop.reviews(r, id, 2), r.logNormal(3_000, 0.5));
        if (this.loggedIn() && r.chance(0.04))
          this.push(() => shop.postReview(r, id), r.logNormal(40_000, 0.5));
        break;
      }
      case 'addCart': {
        const id = this.product || shop.pickProduct(r);
        this.cartItems.push(id);
        this.push(() => shop.addToCart(r, id, r.chance(0.85) ? 1 : r.int(2, 3)));
        break;
      }
      case 'cart':
        this.push(() => shop.cart(r));
        if (this.cartItems.length > 0 && r.chance(0.15)) {
          const id = this.cartItems.pop()!;
          this.push(() => shop.removeFromCart(r, id), r.logNormal(4_000, 0.5));
        }
        break;
      case 'checkout':
        this.checkout();
        break;
      case 'orders':
        this.push(() => shop.orders(r, 1));
        if (r.chance(0.1)) this.push(() => shop.orders(r, 2), r.logNormal(3_000, 0.5));
        break;
      case 'orderDetail': {
        const o = this.pendingOrder ?? (this.user.orders.length > 0 ? r.pick(this.user.orders) : null);
        if (o !== null) this.push(() => shop.order(r, o, this.user.id));
        else this.push(() => shop.orders(r, 1));
        break;
      }
      case 'profile': {
        const id = this.user.id;
        this.push(() => shop.profile(r, id));
        if (r.chance(0.3)) this.push(() => shop.addresses(r, id), r.logNormal(3_000, 0.6));
        if (r.chance(0.1)) this.push(() => shop.cards(r, id), r.logNormal(3_000, 0.6));
        if (r.chance(0.05)) this.push(() => shop.updateProfile(r, id), r.logNormal(30_000, 0.6));
        break;
      }
      default:
        if (this.loggedIn() && r.chance(0.03)) this.push(() => shop.logout(r));
        break;
    }
  }

  /** The first screen: a browser loads the page and its assets; the app refreshes its token and opens the feed. */
  private landing(): void {
    const r = this.rng;
    const shop = this.shop;
    if (this.user.kind === 'browser') {
      const fromSearch = r.chance(0.35);
      const cold = r.chance(0.5);
      if (fromSearch) {
        const id = shop.pickProduct(r);
        this.product = id;
        this.push(() => ({
          ...shop.productPage(r, id),
          referer: r.pick(['https://www.google.com/', 'https://www.bing.com/', 'https://www.baidu.com/']),
        }));
        this.client.referer = shop.pageUrl(`/products/${id}`);
      } else {
        this.push(() => ({ ...shop.home(r), referer: null }));
        this.client.referer = shop.pageUrl('/');
      }
      for (const a of shop.assets(r, cold)) this.push(() => a, 5 + r.exp(40));
      this.push(() => shop.categories(r));
      const cat = this.category;
      this.push(() => shop.products(r, cat, 1, false));
      this.images(r.int(4, 8));
      this.screen = fromSearch ? 'detail' : 'home';
      return;
    }
    if (this.user.token !== null && this.user.tokenExp > this.t && r.chance(0.3)) {
      const sub = String(this.user.id);
      this.push(() => {
        const x = shop.refresh(r, sub, this.t);
        this.user.token = x.token;
        this.user.tokenExp = this.t + 7 * DAY;
        return x.call;
      });
    }
    const cat = this.category;
    this.push(() => shop.categories(r));
    this.push(() => shop.products(r, cat, 1, this.v2));
    this.screen = 'home';
  }

  private images(n: number): void {
    const r = this.rng;
    for (let i = 0; i < n; i++) {
      const id = this.shop.pickProduct(r);
      this.push(() => this.shop.image(r, id), 10 + r.exp(60));
    }
  }

  private referTo(path: string): void {
    this.client.referer = this.shop.pageUrl(path);
  }

  private login(): void {
    const r = this.rng;
    const shop = this.shop;
    const u = this.user;
    const sub = String(u.id);
    const person = u.person!;
    if (u.smsLogin) {
      this.push(() => shop.smsCode(r, person.phone, 'login', false));
      this.push(
        () => {
          const x = shop.smsLogin(r, person.phone, sub, this.t);
          this.setToken(x.token);
          return x.call;
        },
        r.logNormal(25_000, 0.4),
      );
      return;
    }
    // Typos: about one login in fifteen fails first, then succeeds.
    if (r.chance(0.07)) {
      this.push(() => shop.login(r, person.username, false, sub, this.t).call);
      this.push(() => this.passwordLogin(), r.logNormal(9_000, 0.5));
    } else {
      this.push(() => this.passwordLogin());
    }
  }

  private passwordLogin(): Call {
    const x = this.shop.login(this.rng, this.user.person!.username, true, String(this.user.id), this.t);
    this.setToken(x.token);
    return x.call;
  }

  private setToken(token: string | null): void {
    if (token === null) return;
    this.user.token = token;
    this.user.tokenExp = this.t + (this.user.kind === 'mobile' ? 7 : 1) * DAY;
  }

  private signUp(): void {
    const r = this.rng;
    const shop = this.shop;
    const phone = `1${r.pick(['38', '39', '58', '86', '88'])}${r.digits(8)}`;
    const sub = String(USER_ID_BASE + 5_000_000 + r.int(0, 999_999));
    this.push(() => shop.smsCode(r, phone, 'register', false));
    // Codes sometimes do not arrive: a second request after the 60 s cool-down.
    if (r.chance(0.2)) this.push(() => shop.smsCode(r, phone, 'register', false), 60_000 + r.exp(20_000));
    this.push(
      () => shop.register(r, phone, `${r.b64url(8).toLowerCase()}@163.com`, sub, this.t).call,
      r.logNormal(30_000, 0.4),
    );
  }

  private checkout(): void {
    const r = this.rng;
    const shop = this.shop;
    const productId = this.cartItems.length > 0 ? this.cartItems[0]! : this.product || shop.pickProduct(r);
    const qty = r.chance(0.85) ? 1 : r.int(2, 3);
    const coupon = r.chance(0.12) ? r.pick(Object.keys(COUPONS).filter((c) => c !== 'FLASH50')) : null;
    const amount = shop.amountFor(productId, qty, coupon);
    if (coupon !== null) this.push(() => shop.coupon(r, coupon, amount));
    const order: Order = { id: r.uuid(), productId, qty, amount };
    // Older app builds use the v1 endpoint (parameters in the query), everyone else v2 (JSON body).
    const v2 = !(this.user.kind === 'mobile' && !this.user.v2);
    const price = shop.site.product(productId).price;
    this.push(
      () => {
        const call = shop.createOrder(r, { id: order.id, productId, qty, price, coupon }, v2);
        if (call.status === 201) {
          this.user.orders.push(order);
          this.pendingOrder = order;
        }
        return call;
      },
      r.logNormal(6_000, 0.6),
    );
    this.push(
      () => {
        if (this.pendingOrder !== order) return null;
        const call = shop.pay(r, order.id, amount, this.t);
        if (call.status === 200 && this.sim !== null)
          this.sim.add(
            new PaymentCallbackAgent(this.t + 800 + r.exp(1500), r.derive(order.id), shop, order, this.t),
          );
        return call;
      },
      r.logNormal(15_000, 0.6),
    );
    this.push(
      () => (this.pendingOrder === order ? shop.paymentStatus(r, order.id) : null),
      r.logNormal(4_000, 0.5),
    );
  }
}

/** The payment provider confirming a payment to the callback URL, a moment after the customer paid. */
export class PaymentCallbackAgent extends Agent {
  private readonly client: Client;
  constructor(
    t: number,
    rng: Rng,
    private readonly shop: Shop,
    private readonly order: Order,
    private readonly paidAt: number,
  ) {
    super(t, rng);
    this.client = makeClient({
      kind: 'payment_provider',
      actor: 'payment_provider',
      ip: rng.pick(PAYMENT_PROVIDER_IPS),
      ua: PAYMENT_PROVIDER_UA,
      event: 'payment_provider',
    });
  }
  step(sim: Sim): void {
    sim.emit(
      this.client,
      this.shop.payCallback(this.rng, this.order.id, this.order.amount, this.paidAt),
      this.t,
      this.rng,
    );
    this.done = true;
  }
}

// ----------------------------------------------------------------------------------------------------------
// Staff: support agents reading many customers' profiles during office hours (a BOLA look-alike)

export const STAFF_IPS = ['81.2.69.160', '81.2.69.161'];

export class StaffSession extends ScriptAgent {
  private steps = 0;
  private readonly total: number;
  constructor(
    t: number,
    rng: Rng,
    private readonly shop: Shop,
    staffId: number,
    token: string,
  ) {
    super(
      t,
      rng,
      makeClient({
        kind: 'staff',
        actor: `staff:${staffId}`,
        ip: rng.pick(STAFF_IPS),
        ua: rng.pick(UA.browsers.slice(0, 5)),
        token,
        h2: true,
        event: 'staff',
        referer: 'https://shop.example.com/admin/',
      }),
    );
    this.total = rng.int(8, 30);
  }
  protected override think(): number {
    return this.rng.logNormal(20_000, 0.7);
  }
  protected plan(): void {
    const r = this.rng;
    const shop = this.shop;
    if (this.steps++ >= this.total) return;
    if (this.steps === 1) {
      this.push(() => shop.adminUsers(r, r.int(1, 50)));
      return;
    }
    if (r.chance(0.05)) {
      const from = new Date(this.t - DAY).toISOString().slice(0, 10);
      const pages = r.int(2, 6);
      for (let p = 1; p <= pages; p++)
        this.push(() => shop.exportOrders(r, from, p), p === 1 ? undefined : r.logNormal(2_000, 0.4));
      return;
    }
    const id = USER_ID_BASE + r.int(0, shop.site.userCount - 1);
    this.push(() => shop.profile(r, id));
    if (r.chance(0.4)) this.push(() => shop.addresses(r, id), r.logNormal(2_500, 0.5));
    if (r.chance(0.2)) this.push(() => ({ ...shop.orders(r, 1) }), r.logNormal(2_500, 0.5));
  }
}

export function scheduleStaff(sim: Sim, shop: Shop, seed: number, start: number, end: number): void {
  const root = new Rng(seed).derive('staff');
  for (let s = 0; s < 4; s++) {
    const r = root.derive(`staff${s}`);
    const id = 900_001 + s;
    for (let day = Math.floor(start / DAY) * DAY; day < end; day += DAY) {
      const dow = new Date(day).getUTCDay();
      if (dow === 0 || dow === 6) continue;
      const n = r.int(3, 6);
      const token = makeJwt(r, `staff-${id}`, Math.floor((day + 9 * HOUR) / 1000), 'admin');
      for (let k = 0; k < n; k++) {
        const t = day + 9 * HOUR + r.next() * 9 * HOUR;
        if (t >= start && t < end) sim.add(new StaffSession(t, r.derive(`${day}:${k}`), shop, id, token));
      }
    }
  }
}

// ----------------------------------------------------------------------------------------------------------
// Machines: partners, crawlers, monitors

/** A loop agent: `tick` emits and returns the gap to the next tick (ms), or -1 to stop. */
export class LoopAgent extends Agent {
  constructor(
    t: number,
    rng: Rng,
    readonly client: Client,
    private readonly tick: (a: LoopAgent, sim: Sim) => number,
  ) {
    super(t, rng);
  }
  step(sim: Sim): void {
    const gap = this.tick(this, sim);
    if (gap < 0) this.done = true;
    else this.t += gap;
  }
  emit(sim: Sim, call: Call): void {
    sim.emit(this.client, call, this.t, this.rng);
  }
}

export const PARTNERS = [
  { name: 'acme-logistics', job: 'orders+inventory' },
  { name: 'globex-erp', job: 'orders+catalog' },
  { name: 'initech-pricing', job: 'prices' },
] as const;

export function schedulePartners(sim: Sim, shop: Shop, seed: number, start: number): void {
  const root = new Rng(seed).derive('partners');
  for (const p of PARTNERS) {
    const r = root.derive(p.name);
    const client = makeClient({
      kind: 'partner',
      actor: `partner:${p.name}`,
      ip: hostingIp(r),
      ua: r.pick(PARTNER_UAS),
      apiKey: `pk_live_${r.b64url(32)}`,
      consumer: p.name,
      event: 'partners',
    });
    // Order polling: every minute (acme) or two (globex).
    if (p.job !== 'prices') {
      const every = p.job === 'orders+inventory' ? 60_000 : 120_000;
      sim.add(
        new LoopAgent(start + r.next() * every, r.derive('poll'), client, (a, s) => {
          a.emit(s, shop.ordersSince(a.rng, a.t - every, 0));
          return every + a.rng.uniform(-3_000, 3_000);
        }),
      );
    }
    // Sweeps: walking ids in order, steadily — what a crawler does, but every hour, with a key, forever.
    const sweep = (
      name: string,
      every: number,
      count: number,
      gapMs: number,
      call: (a: LoopAgent, i: number) => Call,
    ) => {
      let i = 0;
      sim.add(
        new LoopAgent(start + r.next() * every, r.derive(name), client, (a, s) => {
          a.emit(s, call(a, i));
          i++;
          if (i >= count) {
            i = 0;
            return every - count * gapMs;
          }
          return gapMs * a.rng.uniform(0.8, 1.2);
        }),
      );
    };
    if (p.job === 'orders+inventory')
      sweep('inventory', HOUR, 80, 700, (a, i) => shop.inventory(a.rng, 1 + i * 7));
    if (p.job === 'orders+catalog')
      sweep('catalog', 6 * HOUR, 40, 500, (a, i) =>
        shop.products(a.rng, CATEGORIES[i % CATEGORIES.length]!, 1 + Math.floor(i / CATEGORIES.length), true),
      );
    if (p.job === 'prices')
      sweep('prices', 12 * HOUR, 200, 1_500, (a, i) => shop.product(a.rng, 1 + i * 3, true));
  }
}

export function scheduleCrawlers(sim: Sim, shop: Shop, seed: number, start: number): void {
  const root = new Rng(seed).derive('searchbots');
  const bots = [
    {
      kind: 'googlebot' as const,
      prefixes: GOOGLEBOT_PREFIXES,
      uas: [UA.bots[0], UA.bots[1]],
      meanGap: 30_000,
    },
    { kind: 'bingbot' as const, prefixes: BINGBOT_PREFIXES, uas: [UA.bots[2]], meanGap: 90_000 },
  ];
  for (const b of bots) {
    const r = root.derive(b.kind);
    const ips = Array.from({ length: 6 }, () => `${r.pick(b.prefixes)}.${r.int(1, 254)}`);
    let next = 1 + r.int(0, shop.site.productCount - 1);
    const client = makeClient({ kind: b.kind, actor: b.kind, ip: ips[0]!, ua: b.uas[0]!, event: b.kind });
    sim.add(
      new LoopAgent(start + r.exp(b.meanGap), r.derive('loop'), client, (a, s) => {
        const x = a.rng;
        client.ip = x.pick(ips);
        client.ua = x.pick(b.uas);
        const u = x.next();
        if (u < 0.01) a.emit(s, shop.robots(x));
        else if (u < 0.015) a.emit(s, shop.sitemap(x));
        else {
          // Sitemap order: product pages one after another, with jumps.
          if (x.chance(0.15)) next = 1 + x.int(0, shop.site.productCount - 1);
          a.emit(s, { ...shop.productPage(x, next), referer: null });
          next = next >= shop.site.maxProductId ? 1 : next + 1;
        }
        return x.exp(b.meanGap);
      }),
    );
  }
}

export function scheduleMonitors(sim: Sim, shop: Shop, seed: number, start: number): void {
  const r = new Rng(seed).derive('monitors');
  const probe = makeClient({
    kind: 'monitor',
    actor: 'monitor:kube-probe',
    ip: '10.42.0.1',
    ua: UA.monitors[0],
    event: 'monitors',
  });
  sim.add(
    new LoopAgent(start + r.next() * 30_000, r.derive('probe'), probe, (a, s) => {
      a.emit(s, shop.health(a.rng));
      return 30_000;
    }),
  );
  const prom = makeClient({
    kind: 'monitor',
    actor: 'monitor:prometheus',
    ip: '10.42.3.17',
    ua: UA.monitors[1],
    event: 'monitors',
  });
  sim.add(
    new LoopAgent(start + r.next() * 60_000, r.derive('prom'), prom, (a, s) => {
      a.emit(s, shop.metrics(a.rng));
      return 60_000;
    }),
  );
}

// ----------------------------------------------------------------------------------------------------------
// The flash sale: a legitimate burst of many customers on a few products at one moment

export const FLASH_SALE_MINUTES = 10;

class FlashSaleSession extends ScriptAgent {
  private planned = false;
  private got = false;
  constructor(
    t: number,
    rng: Rng,
    user: User,
    private readonly shop: Shop,
    private readonly at: number,
    private readonly productId: number,
    private readonly stock: { left: number },
    private readonly sim: Sim,
  ) {
    const token = user.token ?? makeJwt(rng, String(user.id), Math.floor(t / 1000), 'shop');
    super(
      t,
      rng,
      makeClient({
        kind: user.kind,
        actor: `user:${user.id}`,
        ip: user.homeIp,
        ua: user.ua,
        deviceId: user.deviceId,
        h2: user.h2,
        token,
        event: 'flash_sale',
      }),
    );
  }
  protected plan(): void {
    if (this.planned) return;
    this.planned = true;
    const r = this.rng;
    const shop = this.shop;
    const id = this.productId;
    // Refreshing the product until the sale opens, then buying at once.
    const polls = Math.max(1, Math.min(6, Math.floor((this.at - this.t) / 2_000)));
    for (let i = 0; i < polls; i++)
      this.push(() => shop.product(r, id, true), i === 0 ? undefined : r.uniform(1_000, 3_000));
    const wait = Math.max(50, this.at - this.t - polls * 2_000) + r.exp(15_000);
    const order: Order = { id: r.uuid(), productId: id, qty: 1, amount: shop.amountFor(id, 1, 'FLASH50') };
    const price = shop.site.product(id).price;
    this.push(() => shop.coupon(r, 'FLASH50', order.amount), wait);
    this.push(
      () => {
        const left = this.stock.left > 0;
        if (left) this.stock.left--;
        this.got = left;
        return shop.createOrder(
          r,
          { id: order.id, productId: id, qty: 1, price, coupon: 'FLASH50' },
          true,
          left ? 201 : 409,
        );
      },
      r.uniform(300, 2_000),
    );
    this.push(
      () => {
        // Only buyers who got stock pay.
        if (!this.got) return null;
        const call = shop.pay(r, order.id, order.amount, this.t);
        this.sim.add(
          new PaymentCallbackAgent(this.t + 800 + r.exp(1500), r.derive('cb'), shop, order, this.t),
        );
        return call;
      },
      r.uniform(5_000, 30_000),
    );
  }
  protected override think(): number {
    return 1;
  }
}

/** Schedules the flash sale at `at`: about 15% of customers, three products, 300 units. Returns the product ids. */
export function scheduleFlashSale(sim: Sim, shop: Shop, pop: Population, seed: number, at: number): number[] {
  const r = new Rng(seed).derive('flash-sale');
  const products: number[] = [];
  while (products.length < 3) {
    const id = 1 + r.int(0, shop.site.productCount - 1);
    if (shop.site.productExists(id) && !products.includes(id)) products.push(id);
  }
  const stock = products.map(() => ({ left: 100 }));
  for (const u of pop.users) {
    if (!r.chance(0.15)) continue;
    const k = r.int(0, products.length - 1);
    const t = at - r.uniform(0, 120_000);
    sim.add(new FlashSaleSession(t, r.derive(`fs${u.id}`), u, shop, at, products[k]!, stock[k]!, sim));
  }
  return products;
}
