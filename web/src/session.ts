// Who is signed in, shared by the layout and the views.
import { reactive } from 'vue'
import { api, setCsrfToken, type Me } from './api'

export const session = reactive<{ me: Me | null }>({ me: null })

/** Loads the caller; resolves to null when nobody is signed in. */
export async function loadMe(): Promise<Me | null> {
  try {
    const me = await api<Me>('GET', '/v1/auth/me')
    if (me.csrf_token) setCsrfToken(me.csrf_token)
    session.me = me
  } catch {
    session.me = null
  }
  return session.me
}

export function can(permission: string): boolean {
  return session.me?.permissions.includes(permission) ?? false
}

export async function signOut() {
  await api('POST', '/v1/auth/logout').catch(() => {})
  setCsrfToken(null)
  session.me = null
}
