import { describe, expect, it, vi } from 'vitest'
import { ApiError } from './api'
import { useCursorPages, useLoad } from './composables'

describe('useCursorPages', () => {
  it('goes forward and back through pages', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      start: { items: [5, 4], next_cursor: 'a' },
      a: { items: [3, 2], next_cursor: 'b' },
      b: { items: [1], next_cursor: null },
    }
    const p = useCursorPages<number, string>(async (c) => pages[c ?? 'start'])
    await p.first()
    expect(p.rows.value).toEqual([5, 4])
    await p.next()
    await p.next()
    expect(p.rows.value).toEqual([1])
    expect(p.nextCursor.value).toBeNull()
    await p.prev()
    expect(p.rows.value).toEqual([3, 2])
  })

  it('keeps the error of a failed page', async () => {
    const p = useCursorPages(async () => {
      throw new ApiError(500, 'internal', 'store is not answering', null)
    })
    await p.first()
    expect(p.error.value).toBe('store is not answering')
    expect(p.loading.value).toBe(false)
  })
})

describe('useLoad', () => {
  it('holds data after a successful load', async () => {
    const fetcher = vi.fn(async () => 42)
    const l = useLoad(fetcher)
    await l.load()
    expect(l.data.value).toBe(42)
    expect(l.error.value).toBeNull()
  })
})
