/** A small JSON client for the HTTP API. */
export function httpClient(baseUrl: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.headers ?? {}),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

/** The value of a metric's first line on the server's /metrics (0 when absent). */
export async function metric(baseUrl: string, name: string) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

let sn = 0;

/** Creates a listed product with one SKU through the admin API. */
export async function makeProduct(call: HttpClient, adminToken: string, sku: { priceFen: number; stock: number }, name = "Test product") {
  const res = await call<{ id: string; skus: { id: string }[] }>("POST", "/v1/admin/products", {
    token: adminToken,
    body: { sn: `T-${process.pid}-${Date.now()}-${sn++}`, name, skus: [{ specs: {}, ...sku }] },
  });
  if (res.status !== 201) throw new Error(`make product: ${res.status} ${JSON.stringify(res.body)}`);
  return { productId: res.body.id, skuId: res.body.skus[0]!.id };
}

/** A valid mainland shipping address for tests. */
export const testAddress = { name: "Li Mei", phone: "13800138000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Longjing Rd" };
