/**
 * The simulated site: an e-commerce / fintech API with a web front end. Its route table is the ground truth
 * for endpoint discovery (`routes.json`); its catalog, coupons and payment signing decide what the server
 * answers, so forged parameters are forged against something (a catalog price, a signing key).
 */
import { createHmac } from 'node:crypto';
import type { Scenario } from '../inventory/scenario.js';
import { makePerson, type Person } from './pii.js';
import { mixSeed, Rng } from './random.js';

/** The business risk class of an endpoint: the inventory's vocabulary (src/inventory/scenario.ts). */
export type { Scenario };

export type AuthKind = 'none' | 'bearer' | 'api_key' | 'signature';

export interface ParamDef {
  in: 'path' | 'query' | 'body';
  name: string;
  type: 'integer' | 'number' | 'string' | 'uuid' | 'boolean';
  required: boolean;
  /** A value format: `email`, `phone`, `date-time`, `currency`, `hex` ... */
  format?: string;
}

export interface RouteDef {
  method: string;
  /** OpenAPI-style template: `/api/v1/products/{id}`. */
  template: string;
  scenario: Scenario;
  auth: AuthKind;
  /** Upstream service (gateway logs name it). */
  service: string;
  params: ParamDef[];
  /** Personal data kinds the response carries. */
  sensitive?: string[];
  /** Kept for old app versions; a newer version exists. */
  deprecated?: boolean;
  /** Not for customers: staff tools, debug endpoints, probes. */
  internal?: boolean;
}

const p = (
  where: ParamDef['in'],
  name: string,
  type: ParamDef['type'],
  required = true,
  format?: string,
): ParamDef =>
  format === undefined ? { in: where, name, type, required } : { in: where, name, type, required, format };

/** Every route of the site, by name. The order is the route table's order. */
export const ROUTES = {
  home: { method: 'GET', template: '/', scenario: 'static', auth: 'none', service: 'web', params: [] },
  productPage: {
    method: 'GET',
    template: '/products/{id}',
    scenario: 'detail',
    auth: 'none',
    service: 'web',
    params: [p('path', 'id', 'integer')],
  },
  js: {
    method: 'GET',
    template: '/static/js/{file}',
    scenario: 'static',
    auth: 'none',
    service: 'web',
    params: [p('path', 'file', 'string')],
  },
  css: {
    method: 'GET',
    template: '/static/css/{file}',
    scenario: 'static',
    auth: 'none',
    service: 'web',
    params: [p('path', 'file', 'string')],
  },
  image: {
    method: 'GET',
    template: '/static/img/products/{file}',
    scenario: 'static',
    auth: 'none',
    service: 'web',
    params: [p('path', 'file', 'string')],
  },
  favicon: {
    method: 'GET',
    template: '/favicon.ico',
    scenario: 'static',
    auth: 'none',
    service: 'web',
    params: [],
  },
  robots: {
    method: 'GET',
    template: '/robots.txt',
    scenario: 'static',
    auth: 'none',
    service: 'web',
    params: [],
  },
  sitemap: {
    method: 'GET',
    template: '/sitemap.xml',
    scenario: 'static',
    auth: 'none',
    service: 'web',
    params: [],
  },

  products: {
    method: 'GET',
    template: '/api/v1/products',
    scenario: 'listing',
    auth: 'none',
    service: 'catalog',
    params: [
      p('query', 'category', 'string', false),
      p('query', 'page', 'integer', false),
      p('query', 'size', 'integer', false),
      p('query', 'sort', 'string', false),
    ],
    deprecated: true,
  },
  product: {
    method: 'GET',
    template: '/api/v1/products/{id}',
    scenario: 'detail',
    auth: 'none',
    service: 'catalog',
    params: [p('path', 'id', 'integer')],
    deprecated: true,
  },
  reviews: {
    method: 'GET',
    template: '/api/v1/products/{id}/reviews',
    scenario: 'listing',
    auth: 'none',
    service: 'catalog',
    params: [p('path', 'id', 'integer'), p('query', 'page', 'integer', false)],
  },
  postReview: {
    method: 'POST',
    template: '/api/v1/products/{id}/reviews',
    scenario: 'detail',
    auth: 'bearer',
    service: 'catalog',
    params: [p('path', 'id', 'integer'), p('body', 'rating', 'integer'), p('body', 'text', 'string')],
  },
  search: {
    method: 'GET',
    template: '/api/v1/search',
    scenario: 'search',
    auth: 'none',
    service: 'search',
    params: [p('query', 'q', 'string'), p('query', 'page', 'integer', false)],
  },
  categories: {
    method: 'GET',
    template: '/api/v1/categories',
    scenario: 'listing',
    auth: 'none',
    service: 'catalog',
    params: [],
  },
  productsV2: {
    method: 'GET',
    template: '/api/v2/products',
    scenario: 'listing',
    auth: 'none',
    service: 'catalog',
    params: [
      p('query', 'category', 'string', false),
      p('query', 'cursor', 'string', false),
      p('query', 'limit', 'integer', false),
    ],
  },
  productV2: {
    method: 'GET',
    template: '/api/v2/products/{id}',
    scenario: 'detail',
    auth: 'none',
    service: 'catalog',
    params: [p('path', 'id', 'integer')],
  },

  login: {
    method: 'POST',
    template: '/api/v1/auth/login',
    scenario: 'authentication',
    auth: 'none',
    service: 'accounts',
    params: [p('body', 'username', 'string'), p('body', 'password', 'string')],
  },
  register: {
    method: 'POST',
    template: '/api/v1/auth/register',
    scenario: 'registration',
    auth: 'none',
    service: 'accounts',
    params: [
      p('body', 'phone', 'string', true, 'phone'),
      p('body', 'code', 'string'),
      p('body', 'email', 'string', true, 'email'),
      p('body', 'password', 'string'),
    ],
  },
  smsCode: {
    method: 'POST',
    template: '/api/v1/auth/sms-code',
    scenario: 'otp',
    auth: 'none',
    service: 'accounts',
    params: [p('body', 'phone', 'string', true, 'phone'), p('body', 'purpose', 'string')],
  },
  smsLogin: {
    method: 'POST',
    template: '/api/v1/auth/sms-login',
    scenario: 'authentication',
    auth: 'none',
    service: 'accounts',
    params: [p('body', 'phone', 'string', true, 'phone'), p('body', 'code', 'string')],
  },
  refresh: {
    method: 'POST',
    template: '/api/v1/auth/refresh',
    scenario: 'authentication',
    auth: 'bearer',
    service: 'accounts',
    params: [],
  },
  logout: {
    method: 'POST',
    template: '/api/v1/auth/logout',
    scenario: 'authentication',
    auth: 'bearer',
    service: 'accounts',
    params: [],
  },
  profile: {
    method: 'GET',
    template: '/api/v1/users/{id}/profile',
    scenario: 'personal_data',
    auth: 'bearer',
    service: 'accounts',
    params: [p('path', 'id', 'integer')],
    sensitive: ['name', 'email', 'phone', 'cn_resident_id', 'address'],
  },
  updateProfile: {
    method: 'PUT',
    template: '/api/v1/users/{id}/profile',
    scenario: 'personal_data',
    auth: 'bearer',
    service: 'accounts',
    params: [
      p('path', 'id', 'integer'),
      p('body', 'email', 'string', false, 'email'),
      p('body', 'address', 'string', false),
    ],
  },
  addresses: {
    method: 'GET',
    template: '/api/v1/users/{id}/addresses',
    scenario: 'personal_data',
    auth: 'bearer',
    service: 'accounts',
    params: [p('path', 'id', 'integer')],
    sensitive: ['name', 'phone', 'address'],
  },
  cards: {
    method: 'GET',
    template: '/api/v1/users/{id}/cards',
    scenario: 'personal_data',
    auth: 'bearer',
    service: 'payments',
    params: [p('path', 'id', 'integer')],
    sensitive: ['card_number'],
  },

  orders: {
    method: 'GET',
    template: '/api/v1/orders',
    scenario: 'orders',
    auth: 'bearer',
    service: 'orders',
    params: [
      p('query', 'page', 'integer', false),
      p('query', 'size', 'integer', false),
      p('query', 'status', 'string', false),
    ],
  },
  order: {
    method: 'GET',
    template: '/api/v1/orders/{id}',
    scenario: 'orders',
    auth: 'bearer',
    service: 'orders',
    params: [p('path', 'id', 'uuid')],
    sensitive: ['name', 'phone', 'address'],
  },
  createOrder: {
    method: 'POST',
    template: '/api/v1/orders',
    scenario: 'orders',
    auth: 'bearer',
    service: 'orders',
    params: [
      p('query', 'product_id', 'integer'),
      p('query', 'qty', 'integer'),
      p('query', 'price', 'number'),
      p('query', 'coupon', 'string', false),
    ],
    deprecated: true,
  },
  ordersV2: {
    method: 'GET',
    template: '/api/v2/orders',
    scenario: 'orders',
    auth: 'api_key',
    service: 'orders',
    params: [
      p('query', 'cursor', 'string', false),
      p('query', 'updated_since', 'string', false, 'date-time'),
    ],
  },
  createOrderV2: {
    method: 'POST',
    template: '/api/v2/orders',
    scenario: 'orders',
    auth: 'bearer',
    service: 'orders',
    params: [
      p('body', 'product_id', 'integer'),
      p('body', 'qty', 'integer'),
      p('body', 'price', 'number'),
      p('body', 'coupon', 'string', false),
    ],
  },
  cart: {
    method: 'GET',
    template: '/api/v1/cart',
    scenario: 'orders',
    auth: 'bearer',
    service: 'cart',
    params: [],
  },
  addToCart: {
    method: 'POST',
    template: '/api/v1/cart/items',
    scenario: 'orders',
    auth: 'bearer',
    service: 'cart',
    params: [p('body', 'product_id', 'integer'), p('body', 'qty', 'integer')],
  },
  removeFromCart: {
    method: 'DELETE',
    template: '/api/v1/cart/items/{id}',
    scenario: 'orders',
    auth: 'bearer',
    service: 'cart',
    params: [p('path', 'id', 'integer')],
  },
  coupon: {
    method: 'GET',
    template: '/api/v1/coupons/validate',
    scenario: 'coupon',
    auth: 'bearer',
    service: 'orders',
    params: [p('query', 'code', 'string'), p('query', 'total', 'number', false)],
  },
  pay: {
    method: 'POST',
    template: '/api/v1/payments',
    scenario: 'payment',
    auth: 'bearer',
    service: 'payments',
    params: [
      p('query', 'order_id', 'uuid'),
      p('query', 'amount', 'number'),
      p('query', 'currency', 'string', true, 'currency'),
      p('query', 'ts', 'integer'),
      p('query', 'sign', 'string', true, 'hex'),
    ],
  },
  payment: {
    method: 'GET',
    template: '/api/v1/payments/{id}',
    scenario: 'payment',
    auth: 'bearer',
    service: 'payments',
    params: [p('path', 'id', 'uuid')],
  },
  payCallback: {
    method: 'POST',
    template: '/api/v1/payments/callback',
    scenario: 'payment',
    auth: 'signature',
    service: 'payments',
    params: [
      p('body', 'order_id', 'uuid'),
      p('body', 'amount', 'number'),
      p('body', 'status', 'string'),
      p('body', 'sign', 'string', true, 'hex'),
    ],
  },
  inventory: {
    method: 'GET',
    template: '/api/v2/inventory/{sku}',
    scenario: 'detail',
    auth: 'api_key',
    service: 'catalog',
    params: [p('path', 'sku', 'string')],
  },

  adminUsers: {
    method: 'GET',
    template: '/api/v1/admin/users',
    scenario: 'admin',
    auth: 'bearer',
    service: 'accounts',
    params: [p('query', 'page', 'integer', false), p('query', 'q', 'string', false)],
    sensitive: ['name', 'email', 'phone'],
    internal: true,
  },
  exportOrders: {
    method: 'GET',
    template: '/api/v1/admin/export/orders',
    scenario: 'admin',
    auth: 'bearer',
    service: 'orders',
    params: [p('query', 'from', 'string', true, 'date'), p('query', 'page', 'integer', false)],
    sensitive: ['name', 'phone', 'address'],
    internal: true,
  },
  debugConfig: {
    method: 'GET',
    template: '/api/v1/debug/config',
    scenario: 'internal',
    auth: 'none',
    service: 'gateway',
    params: [],
    internal: true,
    deprecated: true,
  },
  health: {
    method: 'GET',
    template: '/internal/health',
    scenario: 'internal',
    auth: 'none',
    service: 'gateway',
    params: [],
    internal: true,
  },
  metrics: {
    method: 'GET',
    template: '/internal/metrics',
    scenario: 'internal',
    auth: 'none',
    service: 'gateway',
    params: [],
    internal: true,
  },
} satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];
/** Route name → its index in the route table (what requests carry). */
export const ROUTE_INDEX: Record<RouteName, number> = Object.fromEntries(
  ROUTE_NAMES.map((n, i) => [n, i]),
) as Record<RouteName, number>;
export const route = (name: RouteName): RouteDef => ROUTES[name];

export const HOST = 'shop.example.com';
export const CATEGORIES = [
  'phones',
  'laptops',
  'audio',
  'cameras',
  'home',
  'kitchen',
  'sports',
  'books',
  'toys',
  'beauty',
];
export const SEARCH_TERMS = [
  'iphone 15',
  'wireless earbuds',
  'air fryer',
  'running shoes',
  '蓝牙耳机',
  '手机壳',
  'usb c cable',
  'coffee grinder',
  'yoga mat',
  'mechanical keyboard',
  '4k monitor',
  'kids bike',
  'café espresso',
  'gift card',
  'robot vacuum',
  'noise cancelling',
];
const NAME_WORDS = ['Pro', 'Max', 'Lite', 'Air', 'Mini', 'Ultra', 'Plus', 'Go', 'One', 'Neo', 'X', 'S'];
const NAME_NOUNS = [
  'Phone',
  'Buds',
  'Watch',
  'Speaker',
  'Kettle',
  'Blender',
  'Lamp',
  'Backpack',
  'Camera',
  'Drone',
  'Router',
  'Monitor',
];

/** Static files of the web front end (a single-page app). */
export const STATIC_JS = ['app.3f9c1e7a.js', 'vendor.8b21d4c0.js', 'runtime.51a0f2e9.js'];
export const STATIC_CSS = ['app.c7e2a913.css'];

export interface SiteOptions {
  seed: number;
  /** Registered customers (ids USER_ID_BASE .. + users - 1). */
  users: number;
  /** Products in the catalog. */
  products: number;
}

export const USER_ID_BASE = 100_000;
export const PRODUCT_ID_BASE = 1;

/** Valid coupon codes and their discount in percent. */
export const COUPONS: Readonly<Record<string, number>> = {
  WELCOME10: 10,
  SPRING15: 15,
  VIP20: 20,
  FREESHIP: 5,
  FLASH50: 50,
};

export interface Product {
  id: number;
  name: string;
  category: string;
  /** Price in CNY, two decimals. */
  price: number;
  stock: number;
}

const money = (n: number): number => Math.round(n * 100) / 100;

/** The store's server-side state: catalog, customers, signing key. Answers are functions of the seed. */
export class Site {
  readonly productCount: number;
  readonly userCount: number;
  /** ids that no longer exist (deleted products answer 404): about 4% of the id range. */
  private readonly deleted: Uint8Array;
  private readonly productCache = new Map<number, Product>();
  private readonly people = new Map<number, Person>();
  private readonly bodyCache = new Map<string, string>();
  readonly paymentKey: string;
  private readonly seed: number;

  constructor(o: SiteOptions) {
    this.seed = o.seed;
    this.productCount = o.products;
    this.userCount = o.users;
    const r = new Rng(mixSeed(o.seed, 'catalog'));
    this.deleted = new Uint8Array(o.products + 1);
    for (let i = 1; i <= o.products; i++) if (r.chance(0.04)) this.deleted[i] = 1;
    this.paymentKey = new Rng(mixSeed(o.seed, 'payment-key')).hex(32);
  }

  /** The highest product id ever assigned (enumerators walk up to it and beyond). */
  get maxProductId(): number {
    return PRODUCT_ID_BASE + this.productCount - 1;
  }

  productExists(id: number): boolean {
    return id >= 1 && id <= this.productCount && this.deleted[id] === 0;
  }

  product(id: number): Product {
    let pr = this.productCache.get(id);
    if (pr === undefined) {
      const r = new Rng(mixSeed(this.seed, `product:${id}`));
      const category = CATEGORIES[id % CATEGORIES.length]!;
      pr = {
        id,
        name: `${r.pick(NAME_NOUNS)} ${r.pick(NAME_WORDS)} ${r.int(2, 9)}`,
        category,
        price: money(Math.round(r.logNormal(199, 1.0) * 100) / 100 + 0.9),
        stock: r.int(0, 500),
      };
      this.productCache.set(id, pr);
    }
    return pr;
  }

  userExists(id: number): boolean {
    return id >= USER_ID_BASE && id < USER_ID_BASE + this.userCount;
  }

  person(id: number): Person {
    let x = this.people.get(id);
    if (x === undefined) {
      x = makePerson(new Rng(mixSeed(this.seed, `person:${id}`)), id);
      this.people.set(id, x);
    }
    return x;
  }

  /** HMAC-SHA256 (hex) over the payment's canonical query, as the payment API checks it. */
  sign(orderId: string, amount: string, currency: string, ts: number): string {
    return createHmac('sha256', this.paymentKey)
      .update(`amount=${amount}&currency=${currency}&order_id=${orderId}&ts=${ts}`)
      .digest('hex');
  }

  private cached(key: string, make: () => string): string {
    let b = this.bodyCache.get(key);
    if (b === undefined) {
      b = make();
      if (this.bodyCache.size > 50_000) this.bodyCache.clear();
      this.bodyCache.set(key, b);
    }
    return b;
  }

  productBody(id: number): string {
    return this.cached(`p${id}`, () => {
      const x = this.product(id);
      return JSON.stringify({
        id,
        name: x.name,
        category: x.category,
        price: x.price,
        currency: 'CNY',
        stock: x.stock,
        rating: 3.5 + (id % 15) / 10,
      });
    });
  }

  listingBody(category: string, page: number, size: number): string {
    return this.cached(`l${category}:${page}:${size}`, () => {
      const items: unknown[] = [];
      const ci = CATEGORIES.indexOf(category);
      let id = Math.max(ci, 0) + (page - 1) * size * CATEGORIES.length;
      for (let i = 0; i < size && id <= this.productCount; i++, id += CATEGORIES.length) {
        if (id < 1 || !this.productExists(id)) continue;
        const x = this.product(id);
        items.push({ id, name: x.name, price: x.price });
      }
      return JSON.stringify({ page, size, total: Math.floor(this.productCount / CATEGORIES.length), items });
    });
  }

  /** The profile as the API returns it: full personal data (what makes BOLA on it a leak). */
  profileBody(id: number): string {
    return this.cached(`u${id}`, () => {
      const x = this.person(id);
      return JSON.stringify({
        id,
        name: x.name,
        email: x.email,
        phone: x.phone,
        id_card: x.residentId ?? undefined,
        birth_year: x.birthYear,
        address: x.address,
        country: x.country,
      });
    });
  }

  addressesBody(id: number): string {
    return this.cached(`a${id}`, () => {
      const x = this.person(id);
      return JSON.stringify({
        items: [{ id: id * 10 + 1, name: x.name, phone: x.phone, address: x.address, default: true }],
      });
    });
  }

  /** Saved cards, unmasked: the kind of over-exposure a data-leak detector should flag. */
  cardsBody(id: number): string {
    return this.cached(`c${id}`, () => {
      const x = this.person(id);
      return JSON.stringify({
        items: [{ brand: x.card.brand, number: x.card.number, expiry: x.card.expiry, holder: x.name }],
      });
    });
  }

  orderBody(
    orderId: string,
    userId: number,
    productId: number,
    qty: number,
    amount: string,
    status: string,
  ): string {
    const x = this.person(userId);
    return JSON.stringify({
      id: orderId,
      status,
      items: [{ product_id: productId, qty }],
      amount,
      currency: 'CNY',
      ship_to: { name: x.name, phone: x.phone, address: x.address },
    });
  }

  /** A page of the staff export: several customers' orders with their contact data. */
  exportBody(page: number): string {
    return this.cached(`e${page}`, () => {
      const rows: unknown[] = [];
      for (let i = 0; i < 25; i++) {
        const uid = USER_ID_BASE + ((page * 25 + i) % Math.max(1, this.userCount));
        const x = this.person(uid);
        rows.push({ user_id: uid, name: x.name, phone: x.phone, address: x.address });
      }
      return JSON.stringify({ page, rows });
    });
  }

  adminUsersBody(page: number): string {
    return this.cached(`au${page}`, () => {
      const rows: unknown[] = [];
      for (let i = 0; i < 20; i++) {
        const uid = USER_ID_BASE + ((page * 20 + i) % Math.max(1, this.userCount));
        const x = this.person(uid);
        rows.push({ id: uid, name: x.name, email: x.email, phone: x.phone });
      }
      return JSON.stringify({ page, rows });
    });
  }
}

/** The route table as written to `routes.json`. */
export function routeTable(): (RouteDef & { name: string })[] {
  return ROUTE_NAMES.map((name) => ({ name, ...ROUTES[name] }));
}
