import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../i18n'
import LoginView from './LoginView.vue'

afterEach(() => vi.unstubAllGlobals())

async function mountLogin() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginView },
      { path: '/customers', name: 'customers', component: { template: '<p>customers</p>' } },
      { path: '/overview', name: 'overview', component: { template: '<p>overview</p>' } },
    ],
  })
  await router.push('/login?redirect=/customers')
  const w = mount(LoginView, { global: { plugins: [router, i18n, ElementPlus] } })
  return { w, router }
}

describe('LoginView', () => {
  it('shows a refused sign-in in place and keeps what was typed', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(
      JSON.stringify({ error: { code: 'unauthenticated', message: 'wrong workspace, e-mail or password', field: null } }),
      { status: 401 })))
    const { w, router } = await mountLogin()
    await w.find('input[name=email]').setValue('owner@demo.siyu.local')
    await w.find('input[name=password]').setValue('nope')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-test=login-error]').text()).toContain('wrong workspace, e-mail or password')
    expect((w.find('input[name=email]').element as HTMLInputElement).value).toBe('owner@demo.siyu.local')
    expect(router.currentRoute.value.path).toBe('/login')
  })

  it('goes back to the page asked for after signing in', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => new Response(JSON.stringify(
      String(url).includes('/auth/me')
        ? { actor: 'user:1', role: 'owner', workspace: { slug: 'demo', name: 'D', timezone: 'Asia/Shanghai' }, permissions: ['read'] }
        : { csrf_token: 'c' }), { status: 200 })))
    const { w, router } = await mountLogin()
    await w.find('input[name=email]').setValue('owner@demo.siyu.local')
    await w.find('input[name=password]').setValue('siyu-demo-2026')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/customers')
  })

  it('asks for every field before calling the server', async () => {
    const fetchMock = vi.fn()
    vi.stubGlobal('fetch', fetchMock)
    const { w } = await mountLogin()
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(fetchMock).not.toHaveBeenCalled()
    expect(w.find('[data-test=login-error]').exists()).toBe(true)
  })
})
