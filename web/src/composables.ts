// Shared page logic: loading and error state around a fetch, and cursor pagination.
import { ref, type Ref } from 'vue'
import { ApiError } from './api'

/** What went wrong, as the server said it. */
export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e)
}

/** Runs `fetcher` with loading and error state; `load()` (re)runs it. */
export function useLoad<T>(fetcher: () => Promise<T>) {
  const data = ref<T | null>(null) as Ref<T | null>
  const loading = ref(false)
  const error = ref<string | null>(null)
  async function load() {
    loading.value = true
    error.value = null
    try {
      data.value = await fetcher()
    } catch (e) {
      error.value = errorText(e)
    } finally {
      loading.value = false
    }
  }
  return { data, loading, error, load }
}

export interface CursorPage<T, C> {
  items: T[]
  next_cursor?: C | null
}

/** Pages through a cursor-paginated list, remembering the cursors to go back. */
export function useCursorPages<T, C>(fetchPage: (cursor: C | null) => Promise<CursorPage<T, C>>) {
  const rows = ref<T[]>([]) as Ref<T[]>
  const cursors = ref<(C | null)[]>([null]) as Ref<(C | null)[]>
  const nextCursor = ref<C | null>(null) as Ref<C | null>
  const loading = ref(false)
  const error = ref<string | null>(null)

  async function load(cursor: C | null) {
    loading.value = true
    error.value = null
    try {
      const page = await fetchPage(cursor)
      rows.value = page.items
      nextCursor.value = page.next_cursor ?? null
    } catch (e) {
      error.value = errorText(e)
    } finally {
      loading.value = false
    }
  }
  const first = () => {
    cursors.value = [null]
    return load(null)
  }
  const reload = () => load(cursors.value[cursors.value.length - 1])
  const next = () => {
    if (nextCursor.value === null) return
    cursors.value.push(nextCursor.value)
    return load(nextCursor.value)
  }
  const prev = () => {
    if (cursors.value.length < 2) return
    cursors.value.pop()
    return reload()
  }
  return { rows, loading, error, nextCursor, cursors, first, reload, next, prev }
}
