// The segment builder's model: a list of conditions joined by and/or, each optionally negated,
// turned into the API's expression JSON (docs/segments.md).

export type ConditionKind =
  | 'tag' | 'layer' | 'city' | 'city_prefix' | 'gender' | 'channel_id' | 'owner_staff_id' | 'joined'
  | 'behaviour' | 'lifecycle' | 'rfm_r' | 'rfm_f' | 'rfm_m' | 'group' | 'spend' | 'segment'
  | 'custom' | 'nested'

/** A declared custom field (GET /v1/fields). */
export interface Field { name: string; type: 'string' | 'number' | 'boolean' | 'date'; personal: boolean; label: string }

export interface Condition {
  kind: ConditionKind
  negate: boolean
  value: string
  values: string[]
  from: string
  to: string
  /** behaviour: event type in `value`, window in days, count or sum compared with `amount` */
  days: number
  measure: 'count' | 'sum'
  op: 'gte' | 'lte' | 'eq'
  amount: number
  /** behaviour: only events whose declared property `prop` is (or contains) `propValue` */
  prop: string
  propValue: string
  /** custom: the field in `value`, its type, and eq/ne/in/range/prefix/exists in `fieldOp` */
  fieldType: Field['type'] | ''
  fieldOp: 'eq' | 'ne' | 'in' | 'range' | 'prefix' | 'exists'
  /** nested: a group of conditions with its own join */
  join: 'and' | 'or'
  children: Condition[]
}

export function newCondition(kind: ConditionKind = 'tag'): Condition {
  return {
    kind, negate: false, value: '', values: [], from: '', to: '', days: 30, measure: 'count', op: 'gte', amount: 1, prop: '', propValue: '',
    fieldType: '', fieldOp: 'eq', join: 'and', children: kind === 'nested' ? [newCondition()] : [],
  }
}

/** A custom field's value as the API takes it: numbers for number fields, booleans for boolean. */
function fieldValue(type: Condition['fieldType'], v: string): unknown {
  if (type === 'number') return v.trim() === '' || Number.isNaN(Number(v)) ? undefined : Number(v)
  if (type === 'boolean') return v === 'true' ? true : v === 'false' ? false : undefined
  return v.trim() === '' ? undefined : v.trim()
}

/** A condition on a custom field, or null while it is incomplete. */
function customExpression(c: Condition): Record<string, unknown> | null {
  if (!c.value || !c.fieldType) return null
  const attr = 'custom.' + c.value
  switch (c.fieldOp) {
    case 'exists':
      return { attr, op: 'exists' }
    case 'range': {
      const from = fieldValue(c.fieldType, c.from)
      const to = fieldValue(c.fieldType, c.to)
      if (from === undefined && to === undefined) return null
      return { attr, op: 'range', ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }
    }
    case 'in': {
      const values = c.values.map((v) => fieldValue(c.fieldType, v)).filter((v) => v !== undefined)
      return values.length ? { attr, op: 'in', values } : null
    }
    default: {
      const value = fieldValue(c.fieldType, c.from)
      return value === undefined ? null : { attr, op: c.fieldOp, value }
    }
  }
}

/** Yuan typed by an operator → cents for the API; empty stays empty. */
function cents(yuan: string): number | undefined {
  if (yuan.trim() === '' || Number.isNaN(Number(yuan))) return undefined
  return Math.round(Number(yuan) * 100)
}

/** The expression for one condition, or null while it is incomplete. */
export function conditionExpression(c: Condition): Record<string, unknown> | null {
  let e: Record<string, unknown> | null = null
  switch (c.kind) {
    case 'tag':
      e = c.value.trim() ? { tag: c.value.trim() } : null
      break
    case 'layer':
      e = c.values.length ? { layer: c.values } : null
      break
    case 'city_prefix':
      e = c.value.trim() ? { attr: 'city', op: 'prefix', value: c.value.trim() } : null
      break
    case 'joined':
      e = c.from || c.to ? { attr: 'created_at', op: 'range', ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}) } : null
      break
    case 'behaviour': {
      const amount = c.measure === 'sum' ? Math.round(c.amount * 100) : Math.round(c.amount)
      const where = c.prop && c.propValue.trim() ? { where: { [c.prop]: c.propValue.trim() } } : {}
      e = c.value.trim() && c.days >= 1 ? { event: c.value.trim(), ...where, within_days: c.days, [c.measure]: { [c.op]: amount } } : null
      break
    }
    case 'lifecycle':
      e = c.values.length ? { lifecycle: c.values } : null
      break
    case 'rfm_r':
    case 'rfm_f':
    case 'rfm_m':
      e = c.values.length ? { rfm: { [c.kind.slice(4)]: c.values.map(Number) } } : null
      break
    case 'group':
      e = c.values.length ? { group: c.values } : null
      break
    case 'spend': {
      const from = cents(c.from)
      const to = cents(c.to)
      e = from !== undefined || to !== undefined ? { attr: 'spend', op: 'range', ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) } : null
      break
    }
    case 'segment':
      e = c.value ? { segment: Number(c.value) } : null
      break
    case 'custom':
      e = customExpression(c)
      break
    case 'nested':
      e = buildExpression(c.join, c.children)
      break
    default:
      e = c.values.length ? { attr: c.kind, op: 'in', values: c.values } : null
  }
  if (e && c.negate) return { not: e }
  return e
}

/** The whole expression; null when no condition is complete. */
export function buildExpression(join: 'and' | 'or', conditions: Condition[]): Record<string, unknown> | null {
  const parts = conditions.map(conditionExpression).filter((e): e is Record<string, unknown> => e !== null)
  if (parts.length === 0) return null
  if (parts.length === 1) return parts[0]
  return { [join]: parts }
}
