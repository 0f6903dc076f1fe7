// The console's only way to the server: JSON over fetch with the session cookie, the CSRF
// header on unsafe methods, and errors turned into ApiError with the server's code and field.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field: string | null,
  ) {
    super(message)
  }
}

const CSRF_KEY = 'siyu.csrf'
let onUnauthorized: () => void = () => {}

/** Called once by the router: where to go when the session has expired. */
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler
}

export function setCsrfToken(token: string | null) {
  if (token) sessionStorage.setItem(CSRF_KEY, token)
  else sessionStorage.removeItem(CSRF_KEY)
}

/** Builds a query string from the non-empty values of `params`. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET') headers['X-CSRF-Token'] = sessionStorage.getItem(CSRF_KEY) ?? ''
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'network', 'network error: the server did not answer', null)
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: any = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = null
  }
  if (!res.ok) {
    const e = data?.error ?? {}
    const err = new ApiError(res.status, e.code ?? 'http_' + res.status, e.message ?? res.statusText, e.field ?? null)
    if (res.status === 401 && !path.startsWith('/v1/auth/login')) onUnauthorized()
    throw err
  }
  return data as T
}

export interface Me {
  actor: string
  role: string
  workspace: { slug: string; name: string; timezone: string }
  permissions: string[]
  user?: { id: number; email: string; display_name: string; role: string }
  csrf_token?: string
}

/** Facts the index derives (docs/segments.md): lifecycle, RFM 1–5 (null without orders). */
export interface Derived {
  lifecycle: string
  paid_orders: number
  spend: number
  rfm: { r: number; f: number; m: number } | null
}

export interface Customer {
  derived?: Derived | null
  id: number
  name: string
  gender: string
  birthday: string | null
  city: string
  phone: string | null
  email: string | null
  layer: string
  channel_id: number | null
  owner_staff_id: number | null
  campaign: string
  content: string
  anonymous: boolean
  created_at: string
  custom: Record<string, unknown>
  identities?: { type: string; value: string; app_id?: string; created_at: string }[]
  tags?: string[]
  relations?: { kind: string; target: string }[]
  merges?: { merged: number; reason: string; at: string }[]
}

export interface Page<T, C = string | number> {
  items: T[]
  next_cursor?: C | null
}
