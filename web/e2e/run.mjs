// Browser test of the console against the real server: demo workspace, headless Debian
// Chromium driven by playwright-core. Usage:
//   node e2e/run.mjs --siyu PATH/TO/siyu --dist web/dist --out DIR
// Saves a screenshot of every screen under DIR and exits non-zero on the first failure.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

const arg = (name, fallback) => {
  const i = process.argv.indexOf('--' + name)
  return i > 0 ? process.argv[i + 1] : fallback
}
const siyu = resolve(arg('siyu', '../build/release/src/cli/siyu'))
const dist = resolve(arg('dist', 'dist'))
const out = resolve(arg('out', 'e2e-output'))
mkdirSync(out, { recursive: true })
if (!existsSync(join(dist, 'index.html'))) {
  console.log(`FAIL the console is not built: ${dist}/index.html is missing (run make web)`)
  process.exit(1)
}

const data = mkdtempSync(join(tmpdir(), 'siyu-e2e-'))
const demo = JSON.parse(execFileSync(siyu, ['demo', '--data', data, '--customers', '3000'], { encoding: 'utf8' }))
const port = 20000 + Math.floor(Math.random() * 20000)
const base = `http://127.0.0.1:${port}`
const server = spawn(siyu, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--static', dist], {
  stdio: ['ignore', 'ignore', 'ignore'],
})

let passed = 0
let failed = 0
async function step(name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok   ${name}`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name}: ${e?.stack ?? e}`)
    throw e
  }
}
function check(cond, message) {
  if (!cond) throw new Error(message)
}

async function waitForServer() {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(base + '/healthz')).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('server did not start')
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
})

async function login(page, email, password) {
  await page.fill('input[name=workspace]', 'demo')
  await page.fill('input[name=email]', email)
  await page.fill('input[name=password]', password)
  await page.click('[data-test=login-submit]')
}

try {
  await waitForServer()
  // A demo customer with a phone number, found through the API.
  const auth = { Authorization: `Bearer ${demo.api_key}` }
  const list = await (await fetch(`${base}/v1/customers?limit=100&anonymous=false`, { headers: auth })).json()
  const target = list.items.find((c) => c.phone && c.name)
  check(target, 'demo has a customer with a phone')
  const suffix = target.phone.slice(-4)

  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1440, height: 900 } })
  const page = await context.newPage()
  const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true })

  await step('an expired or missing session goes to sign-in and keeps the page', async () => {
    await page.goto(base + '/customers')
    await page.waitForURL(/\/login\?redirect=(%2F|\/)customers/)
  })
  await step('a wrong password is shown in place and keeps what was typed', async () => {
    await login(page, demo.login.email, 'not the password')
    await page.waitForSelector('[data-test=login-error]')
    check((await page.inputValue('input[name=email]')) === demo.login.email, 'e-mail kept')
    await shot('login')
  })
  await step('sign in returns to the page asked for', async () => {
    await login(page, demo.login.email, demo.login.password)
    await page.waitForURL(/\/customers$/)
    await page.waitForSelector('[data-test=customer-table] .el-table__row')
  })
  await step('find a customer by the last four phone digits', async () => {
    await page.fill('input[data-test=customer-search]', suffix)
    await page.click('[data-test=customer-search-button]')
    await page.waitForFunction((id) => [...document.querySelectorAll('[data-test=customer-table] .el-table__row')]
      .some((r) => r.textContent.includes(String(id))), target.id)
    await shot('customers')
  })
  await step('sort the list by joining time, oldest first', async () => {
    await page.fill('input[data-test=customer-search]', '')
    await page.click('[data-test=customer-search-button]')
    const header = page.locator('[data-test=customer-table] th', { hasText: '加入时间' })
    await header.locator('.sort-caret.ascending').click()
    await page.waitForURL(/sort=created_at/)
    await page.waitForSelector('[data-test=customer-table] .el-table__row')
    const first = await (await fetch(`${base}/v1/customers?limit=1&sort=created_at&order=asc`, { headers: auth })).json()
    await page.waitForFunction((id) => document.querySelector('[data-test=customer-table] .el-table__body-wrapper .el-table__row')
      ?.textContent.includes(String(id)), first.items[0].id)
    await page.fill('input[data-test=customer-search]', suffix)
    await page.click('[data-test=customer-search-button]')
    await page.waitForFunction((id) => [...document.querySelectorAll('[data-test=customer-table] .el-table__row')]
      .some((r) => r.textContent.includes(String(id))), target.id)
  })
  await step('open the profile and reveal the phone (audited)', async () => {
    await page.locator('[data-test=customer-table] .el-table__row', { hasText: String(target.id) }).first().click()
    await page.waitForSelector('[data-test=profile-name]')
    check((await page.textContent('[data-test=profile-phone]')).includes('****'), 'phone masked by default')
    await page.click('[data-test=reveal]')
    await page.waitForFunction(() => /^\d{11}$/.test(document.querySelector('[data-test=profile-phone]').textContent.trim()))
    await page.waitForSelector('[data-test=timeline] .el-timeline-item')
    await shot('profile')
  })
  await step('add a tag on the profile', async () => {
    await page.fill('input[data-test=new-tag]', 'e2e-vip')
    await page.click('[data-test=add-tag]')
    await page.waitForSelector('[data-test=profile-tag]:has-text("e2e-vip")')
  })
  await step('the tag filters the customer list', async () => {
    await page.goto(base + '/customers?tag=e2e-vip')
    await page.waitForSelector('[data-test=customer-table] .el-table__row')
    const rows = await page.locator('[data-test=customer-table] .el-table__body-wrapper .el-table__row').count()
    check(rows === 1, `one tagged customer, saw ${rows}`)
  })
  await step('build a segment with a live count, save it, open its members', async () => {
    await page.click('[data-nav=segments]')
    await page.click('[data-test=new-segment]')
    await page.fill('input[data-test=segment-name]', 'e2e 人群')
    await page.fill('input[data-test=condition-value]', 'e2e-vip')
    await page.waitForFunction(() => document.querySelector('[data-test=live-count]')?.textContent.trim().startsWith('1 '))
    // A nested group of conditions (still empty, so the count stays).
    await page.click('[data-test=add-condition]')
    await page.locator('[data-test=condition-kind]').nth(1).click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '条件组' }).click()
    await page.waitForSelector('.nested [data-test=condition]')
    await shot('segment-builder')
    await page.click('[data-test=segment-save]')
    await page.waitForSelector('[data-test=segment-table] .el-table__row:has-text("e2e 人群")')
    await page.locator('[data-test=segment-table] .el-table__row', { hasText: 'e2e 人群' }).locator('button', { hasText: '成员' }).click()
    await page.waitForSelector(`[data-test=member-table] .el-table__row:has-text("${target.id}")`)
    await shot('segment')
  })
  await step('the tags page lists the demo rules and previews a new one', async () => {
    await page.click('[data-nav=tags]')
    await page.waitForSelector('[data-test=rule-table] .el-table__row:has-text("高价值")')
    await page.waitForSelector('[data-test=tag-table] .el-table__row:has-text("复购客")')
    await page.click('[data-test=new-rule]')
    await page.fill('input[data-test=rule-name]', 'e2e 规则')
    await page.fill('input[data-test=rule-tag]', 'e2e-rule')
    await page.click('[data-test=rule-preview-button]')
    await page.waitForSelector('[data-test=rule-preview]:has-text("将新增")')
    await page.keyboard.press('Escape')
    // Declare an event property for behaviour conditions.
    await page.fill('input[data-test=event-property-name]', 'content_tags')
    await page.locator('[data-test=event-properties] button', { hasText: '添加' }).click()
    await page.waitForSelector('[data-test=event-properties] .el-tag:has-text("content_tags")')
    await shot('tags')
  })
  await step('bulk-tag selected customers', async () => {
    await page.goto(base + '/customers?layer=member')
    await page.waitForSelector('[data-test=customer-table] .el-table__body-wrapper .el-table__row')
    const boxes = page.locator('[data-test=customer-table] .el-table__body-wrapper .el-checkbox')
    await boxes.nth(0).click()
    await boxes.nth(1).click()
    await page.click('[data-test=bulk-tag]')
    await page.fill('input[data-test=bulk-tag-name]', 'e2e-bulk')
    await page.click('[data-test=bulk-tag-save]')
    await page.waitForSelector('.el-message--success')
    await page.goto(base + '/customers?tag=e2e-bulk')
    await page.waitForSelector('[data-test=customer-table] .el-table__row')
    const rows = await page.locator('[data-test=customer-table] .el-table__body-wrapper .el-table__row').count()
    check(rows === 2, `two bulk-tagged customers, saw ${rows}`)
    await page.goto(base + '/customers?tag=e2e-vip')
    await page.waitForSelector('[data-test=customer-table] .el-table__row')
  })
  await step('export the filtered list as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export]')])
    const path = join(out, 'customers.csv')
    await download.saveAs(path)
    const csv = readFileSync(path, 'utf8')
    const lines = csv.trimEnd().split(/\r\n/)
    check(lines[0].startsWith('\uFEFFid,name'), 'CSV starts with BOM and header')
    check(lines.length === 2 && lines[1].startsWith(`${target.id},`), `one row for customer ${target.id}: ${lines.length - 1} rows`)
  })
  await step('the export is in the audit log', async () => {
    await page.click('[data-nav=audit]')
    await page.waitForSelector('[data-test=audit-table] .el-table__row:has-text("export.customers")')
    await shot('audit')
  })
  for (const [nav, selector] of [['overview', '[data-test=funnel] canvas'], ['orders', '[data-test=order-table] .el-table__row'],
    ['channels', '[data-test=channel-table] .el-table__row'],
    ['staff', '.el-table__row'], ['keys', '.el-table__row']]) {
    await step(`the ${nav} screen shows data`, async () => {
      await page.click(`[data-nav=${nav}]`)
      await page.waitForSelector(selector)
      await page.waitForTimeout(300)
      await shot(nav)
    })
  }
  await step('a new API key is shown once and works', async () => {
    await page.click('[data-nav=keys]')
    await page.click('[data-test=create-key]')
    await page.fill('input[data-test=key-name]', 'e2e')
    await page.click('[data-test=key-save]')
    const secret = await page.inputValue('input[data-test=key-secret]')
    check(/^sk_[0-9a-f]{48}$/.test(secret), 'key shown')
    const status = (await fetch(`${base}/v1/customers?limit=1`, { headers: { Authorization: `Bearer ${secret}` } })).status
    check(status === 200, `new key answered ${status}`)
    await page.keyboard.press('Escape')
    const listed = await (await fetch(`${base}/v1/keys`, { headers: auth })).text()
    check(!listed.includes(secret), 'the secret is never listed again')
  })
  await step('an overview figure opens the list behind it', async () => {
    await page.click('[data-nav=overview]')
    await page.waitForSelector('[data-test=funnel] canvas')
    await page.locator('[data-test=overview-stats] .stat').nth(2).click()
    await page.waitForSelector('[data-test=orders-since]')
    await page.waitForSelector('[data-test=order-table] .el-table__row')
  })
  await step('the journeys page lists the demo journeys, SOP templates and the group post calendar', async () => {
    await page.click('[data-nav=journeys]')
    await page.waitForSelector('[data-test=journey-table] .el-table__row:has-text("新人入群欢迎")')
    await page.waitForTimeout(400) // status tags fade in
    await shot('journeys')
    await page.click('.el-tabs__item:has-text("SOP 模板")')
    await page.waitForSelector('[data-test=template-launch_sale]')
    await shot('sop-templates')
    await page.click('.el-tabs__item:has-text("群发日历")')
    await page.waitForSelector('[data-test=calendar-day]')
    await shot('journey-calendar')
  })
  await step('an SOP template becomes a draft journey', async () => {
    await page.click('.el-tabs__item:has-text("SOP 模板")')
    await page.locator('[data-test=template-briefing] button').click()
    await page.locator('[data-test=template-groups]').click()
    await page.locator('.el-select-dropdown__item:visible').first().click()
    await page.keyboard.press('Escape')
    await page.click('[data-test=template-create]')
    await page.waitForURL(/\/journeys\/\d+$/)
    await page.waitForSelector('[data-test=journey-status]:has-text("草稿")')
    await page.waitForSelector('[data-test=step-send]')
  })
  await step('build a journey with a branch, activate it, and an event reaches the delivery log', async () => {
    await page.goto(base + '/journeys/new')
    await page.fill('input[data-test=journey-name]', 'e2e 旅程')
    await page.click('[data-test=add-step-0]')
    await page.locator('[data-test=add-branch]:visible').click()
    await page.fill('input[data-test=branch-tag]', 'e2e-vip')
    await page.waitForTimeout(400) // the first menu fades out
    await page.locator('[data-test=add-step-1]').first().click()
    await page.locator('[data-test=add-task]:visible').last().click()
    await page.fill('input[data-test=task-title]', '回访 {name}')
    await shot('journey-editor')
    await page.click('[data-test=journey-save]')
    await page.waitForURL(/\/journeys\/\d+$/)
    await page.click('[data-test=journey-activate]')
    await page.waitForSelector('[data-test=journey-status]:has-text("运行中")')
    await page.waitForTimeout(500) // the engine's event cursor starts at the newest event
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ event_id: 'e2e-join', type: 'join_group', customer: { id: target.id },
        timestamp: new Date().toISOString(), properties: { group_id: '1' } }]),
    })
    check(res.status === 200, `event answered ${res.status}`)
    await page.click('[data-nav=deliveries]')
    for (let i = 0; i < 60; i++) {
      if (await page.locator(`[data-test=delivery-table] .el-table__row:has-text("${target.id}")`).count()) break
      await page.waitForTimeout(500)
      await page.locator('.toolbar button', { hasText: '搜索' }).click()
    }
    await page.waitForSelector(`[data-test=delivery-table] .el-table__row:has-text("${target.id}")`)
    await page.waitForSelector('[data-test=delivery-settings]')
    await shot('deliveries')
  })
  await step('the branch created a staff task for the tagged customer', async () => {
    await page.click('[data-nav=tasks]')
    await page.waitForSelector(`[data-test=task-table] .el-table__row:has-text("回访")`)
    await shot('tasks')
    await page.locator('[data-test=task-done]').first().click()
    await page.waitForSelector('.el-message--success')
  })
  await step('the community page lists groups with health; overview, heatmap and channel codes with QR', async () => {
    await page.click('[data-nav=community]')
    await page.waitForSelector('[data-test=group-table] .el-table__row')
    await page.waitForSelector('[data-test=community-total]')
    await shot('community')
    await page.click('.el-tabs__item:has-text("社群总览")')
    await page.waitForSelector('[data-test=community-heatmap] canvas')
    await page.waitForSelector('[data-test=community-topics] .el-tag')
    await page.waitForTimeout(400)
    await shot('community-overview')
    await page.click('.el-tabs__item:has-text("群活码")')
    await page.waitForSelector('[data-test=code-qr]')
    await page.waitForFunction(() => document.querySelector('[data-test=code-qr]')?.naturalWidth > 0)
    await shot('channel-codes')
  })
  await step('a group shows its health, heatmap, topics, members with roles and suggestions', async () => {
    await page.click('.el-tabs__item:has-text("社群列表")')
    await page.locator('[data-test=group-table] .el-table__row a').first().click()
    await page.waitForURL(/\/community\/groups\/\d+$/)
    await page.waitForSelector('[data-test=group-heatmap] canvas')
    await page.waitForSelector('[data-test=member-table] .el-table__row')
    await page.waitForTimeout(400)
    await shot('group')
  })
  await step('a new word rule catches an obfuscated Traditional message and shows in the log', async () => {
    await page.click('[data-nav=moderation]')
    await page.waitForSelector('[data-test=rule-table] .el-table__row')
    await page.click('[data-test=new-rule]')
    await page.fill('input[data-test=rule-name]', 'e2e 词表')
    await page.fill('textarea[data-test=rule-words]', '违禁词')
    await page.click('[data-test=save-rule]')
    await page.waitForSelector('[data-test=rule-table] .el-table__row:has-text("e2e 词表")')
    await shot('moderation-rules')
    const groups = await (await fetch(`${base}/v1/groups`, { headers: auth })).json()
    const withMembers = groups.items.find((g) => g.members > 0)
    check(withMembers, 'a demo group has members')
    const members = await (await fetch(`${base}/v1/groups/${withMembers.id}/members`, { headers: auth })).json()
    const res = await fetch(`${base}/v1/group-messages`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ msg_id: 'e2e-1', group_id: withMembers.id, customer_id: members.items[0].customer_id,
        text: '這是 違 · 禁 · 詞 哦', at: new Date().toISOString() }]),
    })
    const body = await res.json()
    check(res.status === 200 && body.violations === 1, `message answered ${res.status} ${JSON.stringify(body)}`)
    await page.click('.el-tabs__item:has-text("处理记录")')
    await page.waitForSelector('[data-test=moderation-log] .el-table__row:has-text("e2e 词表")')
    await shot('moderation-log')
  })
  await step('analytics: sales against the previous period, the buyer profile and a chart as PNG', async () => {
    await page.click('[data-nav=analytics]')
    await page.waitForSelector('[data-test=sales-cards] .stat')
    await page.waitForSelector('[data-test=chart-sales] canvas')
    await page.waitForSelector('[data-test=chart-buyers-layer] canvas')
    await page.waitForTimeout(400)
    await shot('analytics-sales')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=png-sales]')])
    check(download.suggestedFilename() === 'sales.png', `downloaded ${download.suggestedFilename()}`)
    const csv = await page.evaluate((href) => fetch(href).then((r) => r.text()), await page.getAttribute('[data-test=sales-csv]', 'href'))
    check(csv.includes('group,period,gmv'), 'sales CSV has its header')
  })
  await step('analytics: acquisition by channel and the A/B test of the two demo scripts', async () => {
    await page.click('.el-tabs__item:has-text("拉新")')
    await page.waitForSelector('[data-test=acquisition-table] .el-table__row')
    await page.click('[data-test=acquisition-by] label:has-text("内容/话术")')
    await page.waitForTimeout(300)
    await page.waitForSelector('[data-test=acquisition-table] .el-table__row:has-text("话术A-问候")')
    await page.locator('[data-test=ab-a]').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '话术A-问候' }).click()
    await page.waitForTimeout(500)  // the first dropdown's closing animation
    await page.locator('[data-test=ab-b]').click()
    await page.waitForTimeout(500)
    await page.locator('.el-select-dropdown__item:visible', { hasText: '话术B-福利' }).last().click()
    await page.click('[data-test=ab-run]')
    await page.waitForSelector('[data-test=ab-result] .el-tag')
    await shot('analytics-acquisition')
  })
  await step('analytics: a funnel, its drop-outs saved as a segment', async () => {
    await page.click('[data-nav=analytics]')
    await page.click('.el-tabs__item:has-text("漏斗")')
    await page.waitForSelector('[data-test=funnel-table] .el-table__row')
    await page.waitForSelector('[data-test=chart-funnel] canvas')
    await page.waitForTimeout(300)
    await shot('analytics-funnel')
    await page.click('[data-test=dropouts-1]')
    await page.waitForSelector('.el-message-box')
    await page.click('.el-message-box .el-button--primary')
    await page.waitForURL(/\/segments\/\d+$/)
  })
  await step('analytics: retention heatmap, layer progression, the RFM grid and a lifetime-value refit', async () => {
    await page.click('[data-nav=analytics]')
    await page.click('.el-tabs__item:has-text("留存")')
    await page.waitForSelector('[data-test=chart-retention] canvas')
    await page.waitForTimeout(300)
    await shot('analytics-retention')
    await page.click('.el-tabs__item:has-text("分层进阶")')
    await page.waitForSelector('[data-test=layers-table] .el-table__row')
    await page.click('.el-tabs__item:has-text("RFM 与价值")')
    await page.waitForSelector('[data-test=chart-rfm] canvas')
    await page.click('[data-test=ltv-refit]')
    await page.waitForSelector('[data-test=chart-ltv-value] canvas')
    await page.waitForSelector('[data-test=ltv-model]:has-text("BG/NBD")')
    await page.waitForTimeout(300)
    await shot('analytics-value')
    await page.click('.el-tabs__item:has-text("社群活跃")')
    await page.waitForSelector('[data-test=chart-community-heatmap] canvas')
    await shot('analytics-community')
  })
  await step('switch to English', async () => {
    await page.click('[data-test=language]')
    await page.waitForSelector('[data-nav=customers]:has-text("Customers")')
    await shot('keys-english')
    await page.click('[data-test=language]')
  })
  await step('an analyst cannot reveal a phone number', async () => {
    await page.click('[data-test=logout]')
    await page.waitForURL(/\/login/)
    await login(page, `analyst@demo.siyu.local`, demo.login.password)
    await page.waitForURL(/\/overview/)
    await page.goto(`${base}/customers/${target.id}`)
    await page.waitForSelector('[data-test=profile-name]')
    check((await page.locator('[data-test=reveal]').count()) === 0, 'no reveal button')
    check((await page.textContent('[data-test=profile-phone]')).includes('****'), 'phone masked')
    const status = await page.evaluate((id) => fetch(`/v1/customers/${id}?reveal=true`).then((r) => r.status), target.id)
    check(status === 403, `reveal answered ${status}`)
    await shot('profile-analyst')
  })
} catch {
  // The failing step has printed why.
} finally {
  await browser.close()
  server.kill('SIGTERM')
  rmSync(data, { recursive: true, force: true })
  console.log(`${passed} passed, ${failed} failed`)
}
process.exit(failed === 0 ? 0 : 1)
