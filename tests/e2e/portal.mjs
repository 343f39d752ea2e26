// portal.mjs — the resident portal in a real browser: playwright-core driving Debian's chromium
// (headless) against the hub that portal_test.sh started, with three cities' sims. A komae
// resident logs in through the hub's own login page, searches facilities across cities (from a
// station and near their own position), holds a chofu slot, confirms it at the fee shown,
// finds it in "my bookings" and cancels it; switches language (remembered after a reload);
// logs out (the SSO session ends). A kiyose resident searches a book in every city's library,
// reserves kodaira's copy for pickup at home (linking the kodaira card first), finds it in "my
// book holds" and cancels it; finds the book kodaira's counter lent to that card in "my loans"
// and renews it twice: the new due date, the renewals left, none after the second (in the three
// languages); another loan's renewal is refused (someone waits for it) and says why. Then
// kiyose's adapter goes down and its status is shown, then kodaira's (my loans says so and
// keeps its loans as last seen). axe-core
// checks every page (no serious or critical violation); no CSP violation or script error is
// allowed; the layout must fit a 360-pixel-wide screen. Screenshots of each step go to the
// artifacts folder.
//
// Usage: node portal.mjs HUB_URL ARTIFACT_DIR KOMAE_USER KIYOSE_USER PASSWORD KIYOSE_SIM_PID
//        KODAIRA_CARD LOAN_TITLE LOAN_DUE REFUSED_TITLE KODAIRA_SIM_PID (the counter's loans: one
//        renewable, its title and due date; one another reader waits for)
import { chromium } from 'playwright-core';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [hub, artifacts, username, kiyoseUser, password, kiyosePid, card, loanTitle, loanDue, refusedTitle, kodairaPid] = process.argv.slice(2);
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Chromium's own connections (updates, sync, field trials) are refused on this closed network.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({
  locale: 'ja-JP', timezoneId: 'Asia/Tokyo', viewport: { width: 1024, height: 900 },
  geolocation: { latitude: 35.6518, longitude: 139.5441 }, permissions: ['geolocation'],
});
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
});

let step = 0;
async function shot(name) {
  step += 1;
  await page.screenshot({ path: `${artifacts}/${String(step).padStart(2, '0')}-${name}.png`, fullPage: true });
}

// axe-core in the page (evaluated by the browser's debugger, so the page's CSP stays on);
// serious and critical violations fail the test, with what and where.
async function accessible(what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(result, [], `axe on ${what}`);
}

const mainText = () => page.locator('main').innerText();

async function loginAs(city) {
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  await page.getByRole('radio', { name: city }).check();
  return page.getByRole('button', { name: 'ログイン画面へ' }).click();
}

test('the portal page: strict CSP, hashed immutable assets', async () => {
  const res = await page.goto(`${hub}/`);
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  await page.getByRole('heading', { level: 1, name: '施設をさがす' }).waitFor();
  const script = await page.locator('script[type=module]').getAttribute('src');
  assert.match(script, /^\/portal\/[0-9a-f]{16}\/app\.js$/);
  const asset = await page.request.get(`${hub}${script}`);
  assert.match(asset.headers()['cache-control'], /max-age=31536000, immutable/);
  await shot('home');
  await accessible('the search page');
});

test('a keyboard user meets the skip link first', async () => {
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
});

test('log in at the home city through the hub', async () => {
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  await shot('login-choose-city');
  await accessible('the city chooser');
  await page.getByRole('radio', { name: '狛江市' }).check();
  await page.getByRole('button', { name: 'ログイン画面へ' }).click();
  await page.waitForURL(/\/t\/komae\/authorize/);
  await shot('hub-login-page');
  await accessible("the hub's login page");
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.waitForURL(`${hub}/#/`);
  await page.getByText('狛江 花子 さん（狛江市）でログイン中').waitFor();
  const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
  assert.ok(stored.session.includes('renkei.session'), 'tokens in sessionStorage');
  assert.ok(!stored.local.some((k) => k.includes('session')), 'no tokens in localStorage');
  await shot('logged-in');
});

let chofuFacility = '';

test('search across cities from a station: list, map, statuses, prices for me', async () => {
  await page.getByRole('radio', { name: '駅・市役所の近く' }).check();
  await page.getByLabel('駅・市役所', { exact: true }).selectOption({ label: '調布駅' });
  await page.getByLabel('距離').selectOption('0');
  await page.getByRole('button', { name: 'さがす' }).click();
  await page.getByRole('heading', { name: '検索結果' }).waitFor();
  const statuses = await page.locator('.statuses li').allInnerTexts();
  for (const city of ['調布市', '狛江市', '清瀬市']) {
    assert.ok(statuses.some((s) => s.startsWith(`${city}: 応答あり`)), `${city} answered: ${statuses}`);
  }
  const cities = new Set(await page.locator('.result dl').evaluateAll((dls) => dls.map((dl) => dl.querySelector('dd').textContent)));
  assert.ok(cities.size >= 2, `results from several cities: ${[...cities]}`);
  const first = await page.locator('.result').first().innerText();
  assert.match(first, /距離/);
  assert.match(first, /あなたの料金/);
  assert.match(first, /次の空き/);
  assert.equal(await page.locator('svg.map .map-point').count(), await page.locator('.result').count());
  assert.match(await page.locator('svg.map').innerHTML(), /調布駅/);
  await shot('search-results');
  await accessible('the search results');
  const link = page.locator('.result').filter({ hasText: '調布市' }).filter({ hasText: '次の空き' }).locator('h3 a').first();
  chofuFacility = await link.innerText();
  await link.click();
});

test('a facility: rules, fees and a week of live slots; hold, review, confirm', async () => {
  await page.getByRole('heading', { level: 1, name: chofuFacility }).waitFor();
  await page.locator('table.week').waitFor();
  assert.match(await mainText(), /利用のきまり/);
  assert.match(await mainText(), /あなたの料金（協定による広域利用）/);
  await shot('facility');
  await accessible('the facility page');
  // A slot at least three days ahead, so that it can still be cancelled (24 hours before).
  await page.locator('table.week tbody tr:nth-child(n+4) .slot-button').first().click();
  await page.getByLabel('利用人数').fill('2');
  await page.getByLabel('利用目的').fill('練習');
  await shot('slot-chosen');
  await page.getByRole('button', { name: '仮予約する' }).click();
  await page.getByRole('heading', { level: 1, name: '内容を確認して予約を確定' }).waitFor();
  const review = await mainText();
  assert.match(review, /料金\s*¥[\d,]+/);
  assert.match(review, /仮予約の残り時間: \d+:\d\d/);
  assert.match(review, /支払い/);
  await shot('review-hold');
  await accessible('the review of a hold');
  await page.getByRole('button', { name: '予約を確定する' }).click();
  await page.getByRole('heading', { level: 1, name: '予約が確定しました' }).waitFor();
  assert.match(await mainText(), /予約番号/);
  await shot('confirmed');
});

test('my bookings: the booking, then cancelled until the deadline', async () => {
  await page.getByRole('navigation').getByRole('link', { name: 'わたしの予約' }).click();
  await page.getByRole('heading', { level: 1, name: 'わたしの予約' }).waitFor();
  const item = page.locator('.booking').filter({ hasText: chofuFacility }).first();
  assert.match(await item.innerText(), /予約確定/);
  await shot('my-bookings');
  await accessible('my bookings');
  await item.getByRole('button', { name: '予約を取り消す' }).click();
  await item.getByRole('button', { name: 'はい、取り消す' }).click();
  await page.getByText('予約を取り消しました。').waitFor();
  assert.match(await page.locator('.booking').filter({ hasText: chofuFacility }).first().innerText(), /取消済/);
  await shot('cancelled');
});

test('languages: English and やさしい日本語 on every page, remembered', async () => {
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'My bookings' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'My bookings' }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: 'Find a facility' }).click();
  await page.getByRole('heading', { level: 1, name: 'Find a facility' }).waitFor();
  await shot('english');
  await accessible('the search page in English');
  await page.getByRole('button', { name: 'やさしい にほんご' }).click();
  await page.getByRole('heading', { level: 1, name: 'しせつを さがす' }).waitFor();
  await shot('easy-japanese');
  await accessible('the search page in やさしい日本語');
  await page.getByRole('button', { name: '日本語', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '施設をさがす' }).waitFor();
});

test('logout ends the SSO session', async () => {
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await page.getByText('ログインしていません').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.ok(!(await page.evaluate(() => Object.keys(sessionStorage))).includes('renkei.session'));
  await shot('logged-out');
  await loginAs('狛江市');
  await page.waitForURL(/\/t\/komae\/authorize/);
  await page.locator('#password').waitFor(); // asked to log in again: the session is over
});

test('a book across every library: reserve at kodaira for pickup at home, my holds, cancel', async () => {
  await page.goto(`${hub}/`);
  await page.getByRole('heading', { level: 1, name: '施設をさがす' }).waitFor();
  await loginAs('清瀬市');
  await page.waitForURL(/\/t\/kiyose\/authorize/);
  await page.fill('#username', kiyoseUser);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.getByText('清瀬 太郎 さん（清瀬市）でログイン中').waitFor();
  await page.getByRole('navigation').getByRole('link', { name: '本をさがす' }).click();
  await page.getByRole('heading', { level: 1, name: '図書館の本をさがす' }).waitFor();
  await page.getByRole('button', { name: 'さがす' }).click();
  assert.match(await page.locator('[role=alert]').innerText(), /「書名・著者名・キーワード」か「ISBN」/, 'an empty search names the fields');
  await page.getByLabel('書名・著者名・キーワード').fill('坊っちゃん');
  await page.getByRole('button', { name: 'さがす' }).click();
  await page.getByRole('heading', { name: '検索結果' }).waitFor();
  const statuses = await page.locator('.statuses li').allInnerTexts();
  for (const city of ['清瀬市', '小平市', '調布市', '狛江市']) {
    assert.ok(statuses.some((s) => s.startsWith(`${city}: 応答あり`)), `${city} answered: ${statuses}`);
  }
  const work = page.locator('.work').filter({ hasText: '坊っちゃん' }).first();
  await shot('library-results');
  const chofu = work.locator('.availability').filter({ hasText: '調布市' });
  assert.equal(await chofu.locator('.note').count(), 1, `a library without an agreement says why: ${await work.innerText()}`);
  await accessible('the library search');
  const kodaira = work.locator('.availability').filter({ hasText: '小平市' });
  await kodaira.locator('summary').click(); // the answer names each branch once: the copies still by name
  const copies = await kodaira.locator('details li').allInnerTexts();
  assert.ok(copies.length && copies.every((c) => /^[^:]*図書館[^:]*: /.test(c)), `each copy at its branch, by name: ${copies}`);
  await kodaira.getByRole('button', { name: '小平市の本を予約する' }).click();
  await page.getByLabel('受け取る図書館').waitFor();
  const options = await page.getByLabel('受け取る図書館').locator('option').allInnerTexts();
  assert.ok(options.some((o) => o.startsWith('清瀬市: ')), `pickup at home is offered: ${options}`);
  await page.getByLabel('受け取る図書館').selectOption({ label: options.find((o) => o.startsWith('清瀬市: ')) });
  await page.getByRole('button', { name: '予約する', exact: true }).click();
  await page.getByLabel('利用者番号（カードの番号）').waitFor();
  await shot('library-card');
  await accessible('the card form');
  await page.getByLabel('利用者番号（カードの番号）').fill(card);
  await page.getByLabel('パスワード').fill(card.slice(-4));
  const placed = page.waitForRequest('**/PlaceHold');
  await page.getByRole('button', { name: 'カードを登録して予約する' }).click();
  const placeHold = (await placed).postDataJSON();
  const outcome = page.locator('#reserve-panel .success, #reserve-panel .alert');
  await outcome.waitFor();
  assert.match(await outcome.innerText(), /予約しました（/, `PlaceHold ${JSON.stringify(placeHold)}`);
  await page.getByRole('link', { name: '本の予約' }).last().click();
  await page.getByRole('heading', { level: 1, name: '本の予約' }).waitFor();
  const hold = page.locator('.booking').filter({ hasText: '坊っちゃん' }).first();
  const text = await hold.innerText();
  assert.match(text, /小平市/);
  assert.match(text, /清瀬市: /);
  await shot('my-holds');
  await accessible('my book holds');
  await hold.getByRole('button', { name: '予約を取り消す' }).click();
  await hold.getByRole('button', { name: 'はい、取り消す' }).click();
  await page.getByText('「坊っちゃん」の予約を取り消しました。').waitFor();
  assert.equal(await page.locator('.booking').filter({ hasText: '坊っちゃん' }).count(), 0, 'no longer among the holds');
  await shot('hold-cancelled');
});

// "2026-12-09" as the page writes it in Japanese, without the weekday: "2026年12月9日".
const japaneseDate = (ymd) => { const [y, m, d] = ymd.split('-').map(Number); return `${y}年${m}月${d}日`; };
// The loan of that title in my loans (its heading, exactly).
const loanNamed = (title) => page.locator('li.booking', { has: page.getByRole('heading', { level: 2, name: title, exact: true }) });

test("my loans: the counter's loan from kodaira, renewed with the new due date", async () => {
  await page.getByRole('link', { name: '借りている本と貸出の延長' }).click();
  await page.getByRole('heading', { level: 1, name: '借りている本' }).waitFor();
  const statuses = await page.locator('.statuses li').allInnerTexts();
  assert.ok(statuses.some((s) => s.startsWith('小平市: 応答あり')), `kodaira answered: ${statuses}`);
  const loan = loanNamed(loanTitle);
  assert.equal(await loan.count(), 1, `the counter's loan of ${loanTitle} is listed: ${await mainText()}`);
  let text = await loan.innerText();
  assert.match(text, /貸出館\s*小平市: \S+図書館\n/, 'the lending branch by its name');
  assert.match(text, new RegExp(`返却期限\\s*${japaneseDate(loanDue)}`));
  assert.match(text, /あと2回延長できます（0回延長済み）/);
  await shot('my-loans');
  await accessible('my loans');

  const renewing = page.waitForRequest('**/Renew');
  await loan.getByRole('button', { name: '貸出を延長する' }).click();
  const request = await renewing;
  const key = request.headers()['idempotency-key'];
  assert.match(key || '', /^[0-9a-f-]{36}$/, 'Renew carries an Idempotency-Key');
  const renewed = (await (await request.response()).json()).loan;
  assert.equal(renewed.id, request.postDataJSON().loanId);
  const sameLoan = page.locator('li.booking', { has: page.locator(`[id="loan-${renewed.id}"]`) }); // in every language
  assert.equal(renewed.renewals, 1);
  const notice = page.locator('#loans-notice');
  await notice.waitFor();
  assert.equal(await notice.innerText(), `「${loanTitle}」の貸出を延長しました。新しい返却期限は${await loan.locator('dd').nth(2).innerText()}です。`);
  assert.match(await notice.innerText(), new RegExp(japaneseDate(renewed.dueDate)), 'the new due date as Renew answered it');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'loans-notice', 'focus on the outcome');
  text = await loan.innerText();
  assert.match(text, new RegExp(`返却期限\\s*${japaneseDate(renewed.dueDate)}`));
  assert.match(text, /あと1回延長できます（1回延長済み）/);
  await shot('loan-renewed');
  await accessible('a renewed loan');

  const again = page.waitForRequest('**/Renew');
  await loan.getByRole('button', { name: '貸出を延長する' }).focus(); // by keyboard this time
  await page.keyboard.press('Enter');
  assert.notEqual((await again).headers()['idempotency-key'], key, 'a second renewal is another change');
  await page.getByText('延長できる回数を使い切りました（2回延長済み）。').waitFor();
  assert.equal(await loan.getByRole('button').count(), 0, 'no renew button once the renewals are used up');

  const refused = loanNamed(refusedTitle);
  assert.match(await refused.innerText(), /あと2回延長できます（0回延長済み）/);
  await refused.getByRole('button', { name: '貸出を延長する' }).click();
  await page.locator('#loans-notice.alert').waitFor();
  assert.equal(await page.locator('#loans-notice').innerText(), `「${refusedTitle}」の貸出を延長できませんでした: 貸出を延長できません。`,
    "the refusal in the hub's localized message");
  assert.match(await refused.innerText(), /延長\s*貸出を延長できません。/);
  assert.equal(await refused.getByRole('button').count(), 0, 'no renew button after a refusal');
  await shot('loan-renewal-refused');
  await accessible('a refused renewal');
  await page.setViewportSize({ width: 360, height: 780 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'my loans fit a 360-pixel phone');
  await shot('my-loans-phone-360');
  await page.setViewportSize({ width: 1024, height: 900 });

  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'My loans' }).waitFor();
  text = await sameLoan.innerText();
  assert.match(text, /No more renewals allowed \(2 so far\)/);
  assert.match(text, /Lent by\s*Kodaira[^\n]*: [^\n]+ Library\n/i, 'the city and the branch named in English');
  await shot('my-loans-english');
  await accessible('my loans in English');
  await page.getByRole('button', { name: 'やさしい にほんご' }).click();
  await page.getByRole('heading', { level: 1, name: 'かりて いる ほん' }).waitFor();
  assert.match(await mainText(), /もう のばせません（2かい のばしました）/);
  await shot('my-loans-easy');
  await accessible('my loans in やさしい日本語');
  await page.getByRole('button', { name: '日本語', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '借りている本' }).waitFor();
});

test("a city's adapter down: its status is shown, the rest still answers; near me", async () => {
  process.kill(Number(kiyosePid), 'SIGTERM');
  await page.getByRole('navigation').getByRole('link', { name: '施設をさがす' }).click();
  await page.getByRole('radio', { name: '現在地の近く' }).check();
  const asked = page.waitForRequest('**/SearchFacilities');
  await page.getByRole('button', { name: 'さがす' }).click();
  const request = (await asked).postDataJSON();
  assert.deepEqual(request.near, { latitude: 35.6518, longitude: 139.5441 }, 'the position the browser gave');
  assert.equal(request.radiusMeters, 0, 'the distance chosen before is kept across views and languages');
  await page.getByRole('heading', { name: '検索結果' }).waitFor();
  await page.getByText('件見つかりました').waitFor();
  const statuses = await page.locator('.statuses li').allInnerTexts();
  const kiyose = statuses.find((s) => s.startsWith('清瀬市: '));
  assert.ok(kiyose, `kiyose has a status: ${statuses} (asked ${JSON.stringify(request)})`);
  assert.doesNotMatch(kiyose, /応答あり/);
  assert.ok(statuses.some((s) => s.startsWith('調布市: 応答あり')), `chofu still answers: ${statuses}`);
  assert.match(await page.locator('svg.map').innerHTML(), /現在地/);
  await shot('city-down');
  await accessible('results with a city down');
});

test('a library that does not answer: its status in my loans, its loans as last seen', async () => {
  process.kill(Number(kodairaPid), 'SIGTERM');
  await page.getByRole('navigation').getByRole('link', { name: '借りている本' }).click();
  await page.getByRole('heading', { level: 1, name: '借りている本' }).waitFor();
  const statuses = await page.locator('.statuses li').allInnerTexts();
  const kodaira = statuses.find((s) => s.startsWith('小平市: '));
  assert.ok(kodaira && !/応答あり/.test(kodaira), `kodaira did not answer, and says so: ${statuses}`);
  assert.match(await loanNamed(loanTitle).innerText(), /小平市の図書館が応答しなかったため、前回確認した内容を表示しています。/,
    'its loan as last seen, and said so');
  await shot('loans-library-down');
  await accessible('my loans with a library down');
  await page.getByRole('navigation').getByRole('link', { name: '施設をさがす' }).click();
  await page.getByRole('heading', { level: 1, name: '施設をさがす' }).waitFor();
  await page.getByRole('button', { name: 'さがす' }).click();
  await page.getByRole('heading', { name: '検索結果' }).waitFor();
});

test('a 360-pixel phone: nothing wider than the screen', async () => {
  await page.setViewportSize({ width: 360, height: 780 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `page is ${width} px wide`);
  await shot('phone-360');
  await accessible('the results on a phone');
  await page.setViewportSize({ width: 1024, height: 900 });
});

test('no CSP violation, no script error', async () => {
  await browser.close();
  assert.deepEqual(problems, []);
});
