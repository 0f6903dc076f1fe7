import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n } from '../i18n'
import PageState from './PageState.vue'

const mountState = (props: { loading: boolean; error: string | null; empty?: boolean }) =>
  mount(PageState, { props, slots: { default: '<p class="content">rows</p>' }, global: { plugins: [i18n, ElementPlus] } })

describe('PageState', () => {
  it('shows the error and a retry that asks again', async () => {
    const w = mountState({ loading: false, error: 'store is not answering' })
    expect(w.text()).toContain('store is not answering')
    expect(w.find('.content').exists()).toBe(false)
    await w.find('button').trigger('click')
    expect(w.emitted('retry')).toHaveLength(1)
  })

  it('shows the empty state instead of an empty table', () => {
    const w = mountState({ loading: false, error: null, empty: true })
    expect(w.find('.el-empty').exists()).toBe(true)
    expect(w.find('.content').exists()).toBe(false)
  })

  it('shows the content when there is data', () => {
    const w = mountState({ loading: false, error: null, empty: false })
    expect(w.find('.content').text()).toBe('rows')
  })
})
