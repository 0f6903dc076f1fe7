// Console speed on a large workspace: how long after navigation the customer list and a
// profile are interactive, and how many bytes the first page load transfers (gzip).
// Usage: node e2e/speed.mjs --base http://127.0.0.1:8080 --email E --password P [--runs 5]
import { chromium } from 'playwright-core'

const arg = (name, fallback) => {
  const i = process.argv.indexOf('--' + name)
  return i > 0 ? process.argv[i + 1] : fallback
}
const base = arg('base', 'http://127.0.0.1:8080')
const runs = Number(arg('runs', '5'))
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
})
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
const page = await context.newPage()

// First load: bytes on the wire (Content-Length of compressed responses when gzip is used).
const cdp = await context.newCDPSession(page)
await cdp.send('Network.enable')
let wire = 0
cdp.on('Network.loadingFinished', (e) => { wire += e.encodedDataLength })
await page.goto(base + '/login', { waitUntil: 'networkidle' })
const loginBytes = wire
await page.fill('input[name=workspace]', arg('workspace', 'demo'))
await page.fill('input[name=email]', arg('email', 'owner@demo.siyu.local'))
await page.fill('input[name=password]', arg('password', 'siyu-demo-2026'))
await page.click('[data-test=login-submit]')
await page.waitForURL(/overview/)
await page.waitForSelector('[data-test=funnel] canvas')
const firstSessionBytes = wire

async function timeNavigation(path, ready) {
  const times = []
  for (let i = 0; i < runs; i++) {
    await page.goto(base + '/staff')
    await page.waitForSelector('.el-table__row')
    const start = Date.now()
    await page.evaluate((p) => {
      history.pushState({}, '', p)
      dispatchEvent(new PopStateEvent('popstate'))
    }, path)
    await page.waitForSelector(ready)
    times.push(Date.now() - start)
  }
  const samples = [...times]
  times.sort((a, b) => a - b)
  return { median_ms: times[Math.floor(times.length / 2)], max_ms: times[times.length - 1], samples_ms: samples }
}

const list = await timeNavigation('/customers', '[data-test=customer-table] .el-table__row')
const search = await timeNavigation('/customers?q=0042', '[data-test=customer-table] .el-table__row')
const id = await page.evaluate(() => fetch('/v1/customers?limit=1').then((r) => r.json()).then((j) => j.items[0].id))
const profile = await timeNavigation(`/customers/${id}`, '[data-test=timeline] .el-timeline-item')
console.log(JSON.stringify({ login_page_bytes: loginBytes, first_session_bytes: firstSessionBytes, list, search, profile }))
await browser.close()
