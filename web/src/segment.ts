// The segment builder's model: a list of conditions joined by and/or, each optionally negated,
// turned into the API's expression JSON (docs/segments.md).

export type ConditionKind = 'tag' | 'layer' | 'city' | 'city_prefix' | 'gender' | 'channel_id' | 'owner_staff_id' | 'joined'

export interface Condition {
  kind: ConditionKind
  negate: boolean
  value: string
  values: string[]
  from: string
  to: string
}

export function newCondition(kind: ConditionKind = 'tag'): Condition {
  return { kind, negate: false, value: '', values: [], from: '', to: '' }
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
