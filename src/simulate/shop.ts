/**
 * What the simulated server answers: one builder per route, turning a client's intent (see product 42,
 * log in as alice, pay this order) into a `Call` with status, body, sizes and latency. Benign agents and
 * attack campaigns both go through these, so an attacker's request is answered exactly like a user's.
 */
import type { Call, ForgeKind } from './engine.js';
import { errorBody } from './engine.js';
import type { Rng } from './random.js';
import { makeJwt } from './render.js';
import { CATEGORIES, COUPONS, HOST, type Site, STATIC_CSS, STATIC_JS } from './site.js';

const JSON_TYPE = 'application/json';
const HTML = 'text/html; charset=utf-8';

/** An order a customer placed (later listed, viewed, paid). */
export interface Order {
  id: string;
  productId: number;
  qty: number;
  amount: string;
}

const lat = (r: Rng, median: number, sigma = 0.5): number =>
  Math.min(r.logNormal(median, sigma), median * 40);

const enc = encodeURIComponent;

export class Shop {
  constructor(readonly site: Site) {}

  /** A product id as shoppers pick them: a few best sellers, a long tail; some links are stale (deleted). */
  pickProduct(r: Rng): number {
    return 1 + r.skewed(this.site.productCount, 2.0);
  }

  // ------------------------------------------------------------------------------------------------------
  // Web front end

  home(r: Rng): Call {
    return {
      route: 'home',
      target: '/',
      status: 200,
      bytesOut: Math.round(r.logNormal(14_500, 0.05)),
      latency: lat(r, 22),
      contentType: HTML,
    };
  }

  productPage(r: Rng, id: number): Call {
    const ok = this.site.productExists(id);
    return {
      route: 'productPage',
      target: `/products/${id}`,
      status: ok ? 200 : 404,
      bytesOut: ok ? Math.round(r.logNormal(31_000, 0.15)) : 1_420,
      latency: lat(r, ok ? 35 : 8),
      contentType: HTML,
    };
  }

  /** The assets a page load fetches: everything on a cold cache, mostly 304s on a warm one. */
  assets(r: Rng, cold: boolean): Call[] {
    const out: Call[] = [];
    for (const f of STATIC_JS)
      out.push(
        this.asset(
          r,
          'js',
          `/static/js/${f}`,
          cold,
          f.startsWith('vendor') ? 612_000 : 148_000,
          'application/javascript',
        ),
      );
    for (const f of STATIC_CSS) out.push(this.asset(r, 'css', `/static/css/${f}`, cold, 52_300, 'text/css'));
    if (cold)
      out.push({
        route: 'favicon',
        target: '/favicon.ico',
        status: 200,
        bytesOut: 15_086,
        latency: lat(r, 1),
        contentType: 'image/x-icon',
      });
    return out;
  }

  private asset(
    r: Rng,
    route: 'js' | 'css',
    target: string,
    cold: boolean,
    size: number,
    type: string,
  ): Call {
    const fresh = cold || r.chance(0.15);
    return {
      route,
      target,
      status: fresh ? 200 : 304,
      bytesOut: fresh ? size : 0,
      latency: lat(r, 1.5),
      contentType: type,
    };
  }

  image(r: Rng, id: number): Call {
    const w = r.pick([320, 640]);
    const ok = this.site.productExists(id);
    return {
      route: 'image',
      target: `/static/img/products/${id}-${w}.webp`,
      status: ok ? (r.chance(0.3) ? 304 : 200) : 404,
      bytesOut: ok ? Math.round(w * w * 0.09 * (0.7 + r.next() * 0.6)) : 0,
      latency: lat(r, 2),
      contentType: ok ? 'image/webp' : JSON_TYPE,
      body: ok ? undefined : errorBody(404),
    };
  }

  robots(r: Rng): Call {
    return {
      route: 'robots',
      target: '/robots.txt',
      status: 200,
      bytesOut: 214,
      latency: lat(r, 1),
      contentType: 'text/plain',
    };
  }

  sitemap(r: Rng): Call {
    return {
      route: 'sitemap',
      target: '/sitemap.xml',
      status: 200,
      bytesOut: 280_000 + r.int(0, 2000),
      latency: lat(r, 60),
      contentType: 'application/xml',
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // Catalog

  categories(r: Rng): Call {
    return {
      route: 'categories',
      target: '/api/v1/categories',
      status: 200,
      body: JSON.stringify({ items: CATEGORIES }),
      latency: lat(r, 6),
    };
  }

  products(r: Rng, category: string, page: number, v2: boolean): Call {
    const size = 20;
    if (v2) {
      const cursor = page > 1 ? `&cursor=${Buffer.from(`p${page}`).toString('base64url')}` : '';
      return {
        route: 'productsV2',
        target: `/api/v2/products?category=${category}&limit=${size}${cursor}`,
        status: 200,
        body: this.site.listingBody(category, page, size),
        latency: lat(r, 40),
      };
    }
    const sort = r.chance(0.3) ? `&sort=${r.pick(['price_asc', 'price_desc', 'newest', 'sales'])}` : '';
    return {
      route: 'products',
      target: `/api/v1/products?category=${category}&page=${page}&size=${size}${sort}`,
      status: 200,
      body: this.site.listingBody(category, page, size),
      latency: lat(r, 45),
    };
  }

  product(r: Rng, id: number, v2: boolean): Call {
    const ok = this.site.productExists(id);
    return {
      route: v2 ? 'productV2' : 'product',
      target: `/api/${v2 ? 'v2' : 'v1'}/products/${id}`,
      status: ok ? 200 : 404,
      body: ok ? this.site.productBody(id) : errorBody(404),
      latency: lat(r, ok ? 18 : 6),
    };
  }

  reviews(r: Rng, id: number, page: number): Call {
    const ok = this.site.productExists(id);
    return {
      route: 'reviews',
      target: `/api/v1/products/${id}/reviews${page > 1 ? `?page=${page}` : ''}`,
      status: ok ? 200 : 404,
      bytesOut: ok ? Math.round(r.logNormal(5_200, 0.5)) : 24,
      latency: lat(r, 30),
    };
  }

  postReview(r: Rng, id: number): Call {
    const body = JSON.stringify({
      rating: r.int(1, 5),
      text: r.pick([
        'Great value',
        'Arrived late but works',
        '质量很好',
        'Does what it says',
        'Not as described',
      ]),
    });
    return {
      route: 'postReview',
      target: `/api/v1/products/${id}/reviews`,
      status: 201,
      body: '{"ok":true}',
      requestBody: body,
      latency: lat(r, 40),
    };
  }

  search(r: Rng, term: string, page: number): Call {
    const q = r.chance(0.5) ? enc(term).replace(/%20/g, '+') : enc(term);
    return {
      route: 'search',
      target: `/api/v1/search?q=${q}${page > 1 ? `&page=${page}` : ''}`,
      status: 200,
      bytesOut: Math.round(r.logNormal(9_000, 0.5)),
      latency: lat(r, 85, 0.7),
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // Accounts

  /** A login; on success the token is in `token` (the response body carries it too). */
  login(
    r: Rng,
    username: string,
    ok: boolean,
    sub: string,
    now: number,
  ): { call: Call; token: string | null } {
    const password = r.b64url(r.int(8, 14));
    const requestBody = JSON.stringify({ username, password });
    if (!ok) {
      return {
        call: {
          route: 'login',
          target: '/api/v1/auth/login',
          status: 401,
          body: '{"error":"invalid_credentials"}',
          requestBody,
          latency: lat(r, 110, 0.3),
        },
        token: null,
      };
    }
    const token = makeJwt(r, sub, Math.floor(now / 1000), 'shop');
    return {
      call: {
        route: 'login',
        target: '/api/v1/auth/login',
        status: 200,
        body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }),
        requestBody,
        latency: lat(r, 130, 0.3),
      },
      token,
    };
  }

  smsCode(r: Rng, phone: string, purpose: string, limited: boolean): Call {
    return {
      route: 'smsCode',
      target: '/api/v1/auth/sms-code',
      status: limited ? 429 : 200,
      body: limited ? errorBody(429) : '{"sent":true,"retry_after":60}',
      requestBody: JSON.stringify({ phone, purpose }),
      latency: lat(r, limited ? 4 : 160, 0.4),
    };
  }

  smsLogin(r: Rng, phone: string, sub: string, now: number): { call: Call; token: string } {
    const token = makeJwt(r, sub, Math.floor(now / 1000), 'shop');
    return {
      call: {
        route: 'smsLogin',
        target: '/api/v1/auth/sms-login',
        status: 200,
        body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }),
        requestBody: JSON.stringify({ phone, code: r.digits(6) }),
        latency: lat(r, 90, 0.3),
      },
      token,
    };
  }

  register(r: Rng, phone: string, email: string, sub: string, now: number): { call: Call; token: string } {
    const token = makeJwt(r, sub, Math.floor(now / 1000), 'shop');
    return {
      call: {
        route: 'register',
        target: '/api/v1/auth/register',
        status: 201,
        body: JSON.stringify({ id: Number(sub), access_token: token }),
        requestBody: JSON.stringify({ phone, code: r.digits(6), email, password: r.b64url(12) }),
        latency: lat(r, 240, 0.3),
      },
      token,
    };
  }

  refresh(r: Rng, sub: string, now: number): { call: Call; token: string } {
    const token = makeJwt(r, sub, Math.floor(now / 1000), 'shop');
    return {
      call: {
        route: 'refresh',
        target: '/api/v1/auth/refresh',
        status: 200,
        body: JSON.stringify({ access_token: token, expires_in: 3600 }),
        latency: lat(r, 30, 0.3),
      },
      token,
    };
  }

  logout(r: Rng): Call {
    return { route: 'logout', target: '/api/v1/auth/logout', status: 204, bytesOut: 0, latency: lat(r, 8) };
  }

  /**
   * A profile read. The API checks only that the caller is logged in, not that the profile is theirs:
   * another user's id answers 200 with that user's personal data (the BOLA flaw campaigns exploit).
   */
  profile(r: Rng, id: number, forged: ForgeKind | null = null): Call {
    const ok = this.site.userExists(id);
    return {
      route: 'profile',
      target: `/api/v1/users/${id}/profile`,
      status: ok ? 200 : 404,
      body: ok ? this.site.profileBody(id) : errorBody(404),
      latency: lat(r, 20),
      forged,
    };
  }

  updateProfile(r: Rng, id: number): Call {
    const x = this.site.person(id);
    return {
      route: 'updateProfile',
      target: `/api/v1/users/${id}/profile`,
      status: 200,
      body: this.site.profileBody(id),
      requestBody: JSON.stringify({ email: x.email, address: x.address }),
      latency: lat(r, 45),
    };
  }

  addresses(r: Rng, id: number, forged: ForgeKind | null = null): Call {
    const ok = this.site.userExists(id);
    return {
      route: 'addresses',
      target: `/api/v1/users/${id}/addresses`,
      status: ok ? 200 : 404,
      body: ok ? this.site.addressesBody(id) : errorBody(404),
      latency: lat(r, 18),
      forged,
    };
  }

  cards(r: Rng, id: number, forged: ForgeKind | null = null): Call {
    const ok = this.site.userExists(id);
    return {
      route: 'cards',
      target: `/api/v1/users/${id}/cards`,
      status: ok ? 200 : 404,
      body: ok ? this.site.cardsBody(id) : errorBody(404),
      latency: lat(r, 25),
      forged,
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // Orders, cart, coupons, payments

  orders(r: Rng, page: number): Call {
    return {
      route: 'orders',
      target: `/api/v1/orders?page=${page}&size=10${r.chance(0.3) ? `&status=${r.pick(['paid', 'shipped', 'all'])}` : ''}`,
      status: 200,
      bytesOut: Math.round(r.logNormal(4_800, 0.5)),
      latency: lat(r, 35),
    };
  }

  order(r: Rng, o: Order | null, userId: number, foreignId?: string): Call {
    if (o === null)
      return {
        route: 'order',
        target: `/api/v1/orders/${foreignId}`,
        status: 404,
        body: errorBody(404),
        latency: lat(r, 10),
      };
    return {
      route: 'order',
      target: `/api/v1/orders/${o.id}`,
      status: 200,
      body: this.site.orderBody(
        o.id,
        userId,
        o.productId,
        o.qty,
        o.amount,
        r.pick(['paid', 'shipped', 'delivered']),
      ),
      latency: lat(r, 25),
    };
  }

  ordersSince(r: Rng, since: number, cursor: number): Call {
    return {
      route: 'ordersV2',
      target: `/api/v2/orders?updated_since=${enc(`${new Date(since).toISOString().slice(0, 19)}Z`)}${cursor > 0 ? `&cursor=${cursor}` : ''}`,
      status: 200,
      bytesOut: Math.round(r.logNormal(3_500, 0.8)),
      latency: lat(r, 60),
    };
  }

  cart(r: Rng): Call {
    return {
      route: 'cart',
      target: '/api/v1/cart',
      status: 200,
      bytesOut: Math.round(r.logNormal(1_600, 0.5)),
      latency: lat(r, 15),
    };
  }

  addToCart(r: Rng, id: number, qty: number): Call {
    return {
      route: 'addToCart',
      target: '/api/v1/cart/items',
      status: this.site.productExists(id) ? 201 : 404,
      body: '{"ok":true}',
      requestBody: JSON.stringify({ product_id: id, qty }),
      latency: lat(r, 20),
    };
  }

  removeFromCart(r: Rng, id: number): Call {
    return {
      route: 'removeFromCart',
      target: `/api/v1/cart/items/${id}`,
      status: 204,
      bytesOut: 0,
      latency: lat(r, 12),
    };
  }

  /** Coupon check: valid codes answer 200 with the discount, unknown ones 404. */
  coupon(r: Rng, code: string, total: string, forged: ForgeKind | null = null): Call {
    const pct = COUPONS[code];
    return {
      route: 'coupon',
      target: `/api/v1/coupons/validate?code=${enc(code)}&total=${total}`,
      status: pct === undefined ? 404 : 200,
      body: pct === undefined ? '{"error":"invalid_coupon"}' : JSON.stringify({ code, percent_off: pct }),
      latency: lat(r, 12),
      forged,
    };
  }

  /** The amount a correct client sends: catalog price × qty, minus the coupon. */
  amountFor(productId: number, qty: number, coupon: string | null): string {
    const price = this.site.product(productId).price;
    const pct = coupon === null ? 0 : (COUPONS[coupon] ?? 0);
    return ((price * qty * (100 - pct)) / 100).toFixed(2);
  }

  /**
   * Creates an order. v1 takes its parameters in the query (an old mobile API), v2 in a JSON body. The server
   * re-prices v2 orders but trusts v1's `price` (the flaw a tampered price exploits); a non-positive quantity
   * is rejected with 400 on both.
   */
  createOrder(
    r: Rng,
    o: { id: string; productId: number; qty: number; price: number; coupon: string | null },
    v2: boolean,
    status: number | null = null,
    forged: ForgeKind | null = null,
  ): Call {
    const exists = this.site.productExists(o.productId);
    const st = status ?? (!exists ? 404 : o.qty <= 0 || o.qty > 99 ? 400 : v2 ? 201 : 201);
    const price = o.price.toFixed(2);
    const body =
      st === 201
        ? JSON.stringify({
            id: o.id,
            status: 'created',
            amount: (o.price * o.qty).toFixed(2),
            currency: 'CNY',
          })
        : errorBody(st);
    if (v2) {
      return {
        route: 'createOrderV2',
        target: '/api/v2/orders',
        status: st,
        body,
        requestBody: JSON.stringify({
          product_id: o.productId,
          qty: o.qty,
          price: Number(price),
          coupon: o.coupon ?? undefined,
        }),
        latency: lat(r, 160),
        forged,
      };
    }
    return {
      route: 'createOrder',
      target: `/api/v1/orders?product_id=${o.productId}&qty=${o.qty}&price=${price}${o.coupon === null ? '' : `&coupon=${enc(o.coupon)}`}`,
      status: st,
      body,
      latency: lat(r, 170),
      forged,
    };
  }

  /** Pays an order: the signature covers order, amount, currency and time; a wrong one answers 401. */
  pay(
    r: Rng,
    orderId: string,
    amount: string,
    now: number,
    sign: string | null = null,
    forged: ForgeKind | null = null,
  ): Call {
    const ts = Math.floor(now / 1000);
    const good = this.site.sign(orderId, amount, 'CNY', ts);
    const s = sign ?? good;
    const ok = s === good;
    return {
      route: 'pay',
      target: `/api/v1/payments?order_id=${orderId}&amount=${amount}&currency=CNY&ts=${ts}&sign=${s}`,
      status: ok ? 200 : 401,
      body: ok ? JSON.stringify({ payment_id: orderId, status: 'pending' }) : '{"error":"invalid_signature"}',
      latency: lat(r, ok ? 220 : 9),
      forged,
    };
  }

  paymentStatus(r: Rng, orderId: string): Call {
    return {
      route: 'payment',
      target: `/api/v1/payments/${orderId}`,
      status: 200,
      body: JSON.stringify({ payment_id: orderId, status: 'paid' }),
      latency: lat(r, 15),
    };
  }

  payCallback(r: Rng, orderId: string, amount: string, now: number): Call {
    const sign = this.site.sign(orderId, amount, 'CNY', Math.floor(now / 1000));
    return {
      route: 'payCallback',
      target: '/api/v1/payments/callback',
      status: 200,
      body: 'success',
      contentType: 'text/plain',
      requestBody: JSON.stringify({ order_id: orderId, amount, status: 'paid', sign }),
      latency: lat(r, 40),
    };
  }

  inventory(r: Rng, sku: number): Call {
    return {
      route: 'inventory',
      target: `/api/v2/inventory/SKU-${String(sku).padStart(6, '0')}`,
      status: this.site.productExists(sku) ? 200 : 404,
      body: this.site.productExists(sku)
        ? JSON.stringify({ sku, stock: this.site.product(sku).stock, warehouse: 'SH-01' })
        : errorBody(404),
      latency: lat(r, 12),
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // Staff and internal

  adminUsers(r: Rng, page: number): Call {
    return {
      route: 'adminUsers',
      target: `/api/v1/admin/users?page=${page}`,
      status: 200,
      body: this.site.adminUsersBody(page),
      latency: lat(r, 90),
    };
  }

  exportOrders(r: Rng, from: string, page: number): Call {
    return {
      route: 'exportOrders',
      target: `/api/v1/admin/export/orders?from=${from}&page=${page}`,
      status: 200,
      body: this.site.exportBody(page),
      latency: lat(r, 400, 0.4),
    };
  }

  health(r: Rng): Call {
    return {
      route: 'health',
      target: '/internal/health',
      status: 200,
      body: '{"status":"ok"}',
      latency: lat(r, 0.8, 0.3),
    };
  }

  metrics(r: Rng): Call {
    return {
      route: 'metrics',
      target: '/internal/metrics',
      status: 200,
      bytesOut: 18_000 + r.int(0, 3000),
      contentType: 'text/plain; version=0.0.4',
      latency: lat(r, 4, 0.3),
    };
  }

  debugConfig(r: Rng): Call {
    return {
      route: 'debugConfig',
      target: '/api/v1/debug/config',
      status: 200,
      body: JSON.stringify({
        env: 'production',
        db_host: 'pg-primary.shop.svc',
        feature_flags: { new_checkout: true },
        build: '2024.11.3',
      }),
      latency: lat(r, 3),
    };
  }

  /** The site's own URL of a page (Referer of what a browser loads from it). */
  pageUrl(path: string): string {
    return `https://${HOST}${path}`;
  }
}
