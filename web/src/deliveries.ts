// The reasons the server records on outbox rows are English sentences (API messages are
// English); the console shows the ones operators meet every day in 简体中文, keeping numbers
// and names from the original, and any other reason as the server wrote it.

interface Rule {
  match: RegExp
  zh: (m: RegExpMatchArray) => string
}

const RULES: Rule[] = [
  { match: /^quiet hours (\S+)–(\S+)$/, zh: (m) => `免打扰时段 ${m[1]}–${m[2]}，到点再发` },
  { match: /^frequency cap: at most (\d+) a day and (\d+) in 7 days$/, zh: (m) => `频控：每天最多 ${m[1]} 条、7 天最多 ${m[2]} 条营销消息` },
  { match: /^journey frequency cap: at most (\d+) a day and (\d+) in 7 days$/, zh: (m) => `旅程频控：每天最多 ${m[1]} 条、7 天最多 ${m[2]} 条` },
  { match: /^customer opted out of messages$/, zh: () => '客户已退订消息' },
  { match: /^in the do-not-disturb segment \(key moments only\)$/, zh: () => '在免打扰人群中（只收关键消息）' },
  { match: /^customer has no owner staff account to send through$/, zh: () => '客户没有归属员工，无法 1 对 1 发送' },
  { match: /^content variable \{(.+)\} has no value$/, zh: (m) => `内容变量 {${m[1]}} 没有值，未发送` },
  { match: /^staff account rate limit: (\d+) messages a minute$/, zh: (m) => `员工号限速：每分钟 ${m[1]} 条，顺延到下一分钟` },
  { match: /^WeCom allows one enterprise mass message a day per customer$/, zh: () => '企业微信每位客户每天只能收 1 条企业群发，明天 09:00 再发' },
  { match: /^group (\d+) does not exist$/, zh: (m) => `社群 ${m[1]} 不存在` },
  { match: /^gave up after (\d+) attempts: (.*)$/, zh: (m) => `尝试 ${m[1]} 次后放弃：${m[2]}` },
  { match: /^customer has no WeCom external_userid$/, zh: () => '客户没有企业微信外部联系人 ID' },
  { match: /^WeCom refused this recipient \(fail_list\)$/, zh: () => '企业微信拒收（fail_list）' },
]

/** The reason in the console's language. */
export function reasonText(reason: string, locale: string): string {
  if (!reason || locale === 'en') return reason
  for (const rule of RULES) {
    const m = reason.match(rule.match)
    if (m) return rule.zh(m)
  }
  return reason
}
