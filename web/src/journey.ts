// Journey definitions as the console edits them: the same JSON the API takes (docs/journeys.md),
// plus helpers to start new steps, summarise triggers and steps, and read branch conditions.

export type StepType = 'wait' | 'send' | 'branch' | 'tag' | 'task' | 'webhook'

export interface Content { text: string; title?: string; link?: string; image?: string }
export interface Variant { name: string; weight?: number; content: Content }

export interface Step {
  id?: string
  type: StepType
  // wait
  duration?: string
  until?: string
  // send
  to?: 'customer' | 'group'
  class?: 'marketing' | 'key'
  groups?: number[]
  content?: Content
  variants?: Variant[]
  // branch
  if?: Record<string, unknown>
  then?: Step[]
  else?: Step[]
  // tag
  add?: string
  remove?: string
  expires_days?: number
  // task
  title?: string
  note?: string
  due?: string
  // webhook
  url?: string
  body?: Record<string, unknown>
}

export interface Trigger {
  type: 'schedule' | 'event' | 'segment' | 'date' | 'holiday'
  every?: 'day' | 'week' | 'once'
  days?: string[]
  at?: string
  when?: string
  event?: string
  where?: Record<string, string>
  segment?: number
  on?: 'enter' | 'exit'
  field?: string
  holiday?: string
  days_before?: number
}

export interface Definition {
  description?: string
  trigger: Trigger
  audience?: Record<string, unknown> | null
  steps: Step[]
  goal?: { event: string; within_days?: number } | null
  vars?: Record<string, unknown>
  cap_daily?: number
  cap_weekly?: number
  reentry?: 'after_exit' | 'once' | 'always'
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

/** A new step of `type` with the fields it needs. */
export function newStep(type: StepType): Step {
  switch (type) {
    case 'wait':
      return { type, duration: '1d' }
    case 'send':
      return { type, to: 'customer', class: 'marketing', content: { text: '' } }
    case 'branch':
      return { type, if: { tag: '' }, then: [], else: [] }
    case 'tag':
      return { type, add: '' }
    case 'task':
      return { type, title: '', due: '1d' }
    case 'webhook':
      return { type, url: 'https://', body: {} }
  }
}

/** A new journey: an event trigger and one welcome step. */
export function newDefinition(): Definition {
  return {
    trigger: { type: 'event', event: 'join_group' },
    steps: [{ type: 'send', to: 'customer', class: 'key', content: { text: '{name}，欢迎加入！' } }],
    reentry: 'after_exit',
  }
}

/** How a branch condition is edited: a saved segment, a tag, or raw JSON. */
export function conditionMode(expr: Record<string, unknown> | null | undefined): 'segment' | 'tag' | 'json' {
  if (!expr) return 'tag'
  const keys = Object.keys(expr)
  if (keys.length === 1 && keys[0] === 'segment' && typeof expr.segment === 'number') return 'segment'
  if (keys.length === 1 && keys[0] === 'tag' && typeof expr.tag === 'string') return 'tag'
  return 'json'
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/** One line saying when a journey starts, e.g. "每周 六 20:00" or "事件 join_group". */
export function triggerSummary(tr: Trigger, t: Translate): string {
  switch (tr.type) {
    case 'schedule':
      if (tr.every === 'once') return t('journeys.trigger.onceAt', { when: tr.when ?? '' })
      if (tr.every === 'week') {
        const days = (tr.days ?? []).map((d) => t('journeys.weekday.' + d)).join('、')
        return t('journeys.trigger.weekly', { days, at: tr.at ?? '' })
      }
      return t('journeys.trigger.daily', { at: tr.at ?? '' })
    case 'event':
      return t('journeys.trigger.onEvent', { event: tr.event ?? '' })
    case 'segment':
      return t(tr.on === 'exit' ? 'journeys.trigger.onExit' : 'journeys.trigger.onEnter', { segment: tr.segment ?? '' })
    case 'date':
      return t('journeys.trigger.onDate', { field: tr.field ?? '', days: tr.days_before ?? 0, at: tr.at ?? '' })
    case 'holiday':
      return t('journeys.trigger.onHoliday', { holiday: tr.holiday ?? '', days: tr.days_before ?? 0, at: tr.at ?? '' })
  }
}

/** The ids the server gives steps without one ("s1", "s2", … in program order), so figures
 * per step can be shown on steps the operator did not name. Branch "else" blocks that follow
 * a non-empty "then" add a compiler jump, which takes a number too. */
export function assignStepIds(steps: Step[]): Map<Step, string> {
  const ids = new Map<Step, string>()
  let counter = 0
  const walk = (list: Step[]) => {
    for (const s of list) {
      counter += 1
      ids.set(s, s.id && s.id.trim() ? s.id.trim() : 's' + counter)
      if (s.type === 'branch') {
        walk(s.then ?? [])
        if ((s.else ?? []).length) {
          counter += 1 // the jump over the else block
          walk(s.else ?? [])
        }
      }
    }
  }
  walk(steps)
  return ids
}

/** The definition without empty optional parts, ready to send. */
export function cleanDefinition(d: Definition): Definition {
  const out: Definition = JSON.parse(JSON.stringify(d))
  if (!out.audience) delete out.audience
  if (!out.goal || !out.goal.event) delete out.goal
  if (!out.cap_daily) delete out.cap_daily
  if (!out.cap_weekly) delete out.cap_weekly
  if (out.vars && !Object.keys(out.vars).length) delete out.vars
  const tidy = (steps: Step[]) => {
    for (const s of steps) {
      if (s.id !== undefined && !s.id.trim()) delete s.id
      if (s.type === 'send' && s.to !== 'group') delete s.groups
      if (s.type === 'branch') {
        tidy(s.then ?? [])
        tidy(s.else ?? [])
      }
    }
  }
  tidy(out.steps)
  return out
}
