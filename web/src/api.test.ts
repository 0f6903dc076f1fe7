import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, api, query, setCsrfToken, setUnauthorizedHandler } from './api'

function respond(status: number, body: unknown) {
  return vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status }))
}

afterEach(() => vi.unstubAllGlobals())

describe('api', () => {
  it('sends the CSRF token on unsafe methods only', async () => {
    const fetchMock = respond(200, { ok: true })
    vi.stubGlobal('fetch', fetchMock)
    setCsrfToken('t0k')
    await api('POST', '/v1/customers', { name: 'x' })
    await api('GET', '/v1/customers')
    const [, post] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    const [, get] = fetchMock.mock.calls[1] as unknown as [string, RequestInit]
    expect((post.headers as Record<string, string>)['X-CSRF-Token']).toBe('t0k')
    expect((get.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined()
  })

  it('turns error bodies into ApiError with code and field', async () => {
    vi.stubGlobal('fetch', respond(400, { error: { code: 'invalid_argument', message: 'phone must be…', field: 'phone' } }))
    const err = await api('POST', '/v1/customers', {}).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('invalid_argument')
    expect(err.field).toBe('phone')
  })

  it('sends the user to sign in when the session expired', async () => {
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    vi.stubGlobal('fetch', respond(401, { error: { code: 'unauthenticated', message: 'session expired', field: null } }))
    await api('GET', '/v1/customers').catch(() => {})
    expect(handler).toHaveBeenCalledTimes(1)
    // A failed sign-in is shown in place, not redirected.
    await api('POST', '/v1/auth/login', {}).catch(() => {})
    expect(handler).toHaveBeenCalledTimes(1)
  })
})

describe('query', () => {
  it('drops empty values', () => {
    expect(query({ q: '5678', layer: '', tag: null, limit: 20 })).toBe('?q=5678&limit=20')
    expect(query({})).toBe('')
  })
})
