import { SignalingClose } from '@portcullis/contracts';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Locator, Page, Response } from 'playwright-core';
import { runBotControl, runInterfaceProxy, Running } from '../support/apps';
import { launchBrowser, TestBrowser } from '../support/browser';
import { RunningDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { http, processAlive, waitFor } from '../support/http';
import { SignalingStack, startSignalingStack, TestPeer } from '../support/signaling';
import type { BotControlConfig } from '../../apps/bot-control/src';
import type { InterfaceProxyConfig } from '../../apps/interface-proxy/src';

/**
 * The operator dashboard in Debian's Chromium against the real suite: device-auth
 * on its own Postgres database, bot-control starting real bot processes,
 * room-gateway with signaling rooms (same database, real NATS), and interface-proxy serving the page.
 */
// Browser steps wait up to 10 s each; leave room for a machine shared with other test files.
jest.setTimeout(60_000);

describe('operator dashboard in a real browser', () => {
  const botSecret = canary('dash-bot-secret');
  let stack: SignalingStack;
  let deviceAuth: RunningDeviceAuth;
  let bot: Running<BotControlConfig>;
  const sockets: TestPeer[] = [];
  let proxy: Running<InterfaceProxyConfig>;
  let browser: TestBrowser;
  let page: Page;
  const bodies: string[] = [];
  const secrets: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // device-auth and room-gateway share one admin key, as under the all-in-one runner.
    stack = await startSignalingStack('dash_ui');
    deviceAuth = stack.deviceAuth;
    bot = await runBotControl({
      NATS_URL,
      BOT_CONTROL_SHARED_SECRET: botSecret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
      BOT_LEAVE_GRACE_MS: '2000',
    });
    proxy = await runInterfaceProxy({
      BOT_CONTROL_BASE_URL: bot.url,
      BOT_CONTROL_SHARED_SECRET: botSecret,
      PORTCULLIS_ADMIN_API_KEY: deviceAuth.adminKey,
      DEVICE_AUTH_URL: deviceAuth.url,
      ROOM_GATEWAY_BASE_URL: stack.gatewayUrl,
    });
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    // Every answer the page gets (the event stream aside) is kept, to look for the admin key.
    page.on('response', (r: Response) => {
      if (r.url().endsWith('/bots/events')) return;
      bodies.push(JSON.stringify(r.headers()));
      void r.text().then(
        (t) => bodies.push(t),
        () => undefined,
      );
    });
  }, 60_000);

  afterAll(async () => {
    for (const p of sockets) p.ws.terminate();
    await browser?.close();
    await proxy?.close();
    await bot?.close();
    await stack?.close();
  });

  const row = (id: string) => page.locator(`#devices tr[data-device="${id}"]`);

  /** Waits until the element's text matches (the page updates asynchronously). */
  async function textBecomes(locator: Locator, expected: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      last = (await locator.textContent()) ?? '';
      if (typeof expected === 'string' ? last === expected : expected.test(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`text is ${JSON.stringify(last)}, expected ${String(expected)}`);
  }

  it('signs in with the keyboard; a wrong key is a readable message', async () => {
    await page.goto(`${proxy.url}/dashboard`);
    await page.locator('#sign-in').waitFor();
    await browser.shot('01-sign-in');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('api-key');
    await page.keyboard.type('not-the-key');
    await page.keyboard.press('Enter');
    await textBecomes(page.locator('#sign-in-error'), 'That admin API key is not accepted');
    await page.keyboard.type(deviceAuth.adminKey);
    await page.keyboard.press('Enter');
    await page.locator('#panel-devices').waitFor();
    await expect(page.locator('#api-key').inputValue()).resolves.toBe('');
    await expect(page.locator('#tab-devices').getAttribute('aria-selected')).resolves.toBe('true');
  });

  it('keeps the admin key out of the page and every browser storage; the session cookie is httpOnly and Strict', async () => {
    const cookies = await browser.context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({
      name: 'portcullis_dashboard',
      httpOnly: true,
      sameSite: 'Strict',
      path: '/dashboard',
    });
    expect(cookies[0].expires).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(cookies[0].value).not.toContain(deviceAuth.adminKey);
    const stored = await page.evaluate(async () => ({
      local: Object.entries(localStorage),
      session: Object.entries(sessionStorage),
      cookie: document.cookie,
      idb: (await indexedDB.databases()).map((d) => d.name),
      caches: await caches.keys(),
      url: location.href,
    }));
    expect(stored).toEqual({ local: [], session: [], cookie: '', idb: [], caches: [], url: `${proxy.url}/dashboard` });
    expect(await page.content()).not.toContain(deviceAuth.adminKey);
  });

  let deviceId: string;
  let deviceSecret: string;
  let token: string;

  it('registers a device and shows its secret once; the secret gets a token', async () => {
    deviceId = uniqueDeviceId('dash');
    await page.locator('#register summary').click();
    await page.getByLabel('Customer id').fill('cust_dashboard');
    await page.getByLabel('Device id').fill(deviceId);
    await page.getByLabel('Name', { exact: false }).fill('Lobby Pi');
    await page.getByRole('button', { name: 'Register' }).click();
    const box = page.locator('#device-secret');
    await box.waitFor();
    await expect(box.textContent()).resolves.toContain('you will not see this again');
    deviceSecret = await page.locator('#device-secret-value').inputValue();
    expect(deviceSecret.length).toBeGreaterThanOrEqual(43);
    secrets.push(deviceSecret);
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('device-secret-value');
    await row(deviceId).waitFor();
    await browser.shot('02-device-registered-secret-once');

    await page.getByRole('button', { name: 'I have stored it' }).first().click();
    await expect(box.isHidden()).resolves.toBe(true);
    await expect(page.locator('#device-secret-value').inputValue()).resolves.toBe('');
    await page.reload();
    await page.locator('#panel-devices').waitFor();
    await row(deviceId).waitFor();
    expect(await page.content()).not.toContain(deviceSecret);
    expect(
      JSON.stringify(await page.evaluate(() => [Object.entries(localStorage), Object.entries(sessionStorage)])),
    ).not.toContain(deviceSecret);

    const auth = await deviceAuth.authenticate(deviceId, deviceSecret);
    expect(auth.status).toBe(200);
    token = auth.body.access_token;
    expect((await deviceAuth.call('GET', '/device/info', { token })).status).toBe(200);
  });

  it('searches and filters devices', async () => {
    const other = await deviceAuth.register(uniqueDeviceId('dash_other'), 'cust_elsewhere');
    await page.getByLabel('Search').fill('cust_dashboard');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitFor(async () => (await page.locator('#devices tbody tr').count()) === 1);
    await expect(row(deviceId).isVisible()).resolves.toBe(true);
    await page.getByLabel('Search').fill(other.device_id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator(`#devices tr[data-device="${other.device_id}"]`).waitFor();
    await expect(row(deviceId).count()).resolves.toBe(0);
    await page.getByLabel('Search').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await row(deviceId).waitFor();
  });

  it('revokes with confirmation; the device token is then refused', async () => {
    await row(deviceId).getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.locator('#confirm');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain(`Revoke ${deviceId}?`);
    await browser.shot('03-revoke-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(row(deviceId).locator('.badge').textContent()).resolves.toBe('active');

    await row(deviceId).getByRole('button', { name: 'Revoke' }).click();
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await textBecomes(row(deviceId).locator('.badge'), 'revoked');
    await waitFor(async () => (await deviceAuth.call('GET', '/device/info', { token })).status === 401);
    expect((await deviceAuth.authenticate(deviceId, deviceSecret)).body).toEqual({
      detail: 'Invalid device credentials',
    });

    await page.getByLabel('Status').selectOption('revoked');
    await row(deviceId).waitFor();
    await page.getByLabel('Status').selectOption('active');
    await waitFor(async () => (await row(deviceId).count()) === 0);
    await page.getByLabel('Status').selectOption('all');
    await row(deviceId).waitFor();
  });

  it('shows recent authentication attempts, and rotates a secret (shown once)', async () => {
    await row(deviceId).getByRole('button', { name: 'Attempts' }).click();
    const attempts = page.locator('#attempts');
    await attempts.waitFor();
    await waitFor(async () => (await attempts.locator('tbody tr').count()) >= 2);
    const rows = await attempts.locator('tbody tr').allTextContents();
    // Newest first: the refused attempt after the revocation, then the accepted one.
    expect(rows[0]).toMatch(/device\.auth\s*deny\s*revoked/);
    expect(rows[1]).toMatch(/device\.auth\s*allow\s*secret_current/);
    await expect(attempts.locator('.attempts-empty').isHidden()).resolves.toBe(true);
    await browser.shot('04-device-attempts');

    await row(deviceId).getByRole('button', { name: 'Reactivate' }).click();
    await textBecomes(row(deviceId).locator('.badge'), 'active');
    await row(deviceId).getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('#confirm').getByRole('button', { name: 'Rotate' }).click();
    await page.locator('#device-secret').waitFor();
    const rotated = await page.locator('#device-secret-value').inputValue();
    secrets.push(rotated);
    expect(rotated).not.toBe(deviceSecret);
    expect((await deviceAuth.authenticate(deviceId, rotated)).status).toBe(200);
    expect((await deviceAuth.authenticate(deviceId, deviceSecret)).status).toBe(401);
    await page.getByRole('button', { name: 'I have stored it' }).first().click();
  });

  it('shows bot sessions appear and end live from the event stream, without polling; leave and force-stop', async () => {
    const listCalls: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/dashboard/api/bots') listCalls.push(r.method());
    });
    await page.getByRole('tab', { name: 'Bot sessions' }).click();
    await textBecomes(page.locator('#bots-live'), 'live');

    // Bots started by the product (not by the page) show up by themselves.
    const joined = await http('POST', `${proxy.url}/api/bot/join`, {
      json: { room_url: `https://example.daily.co/dash-${randomUUID()}?t=abc`, bot: 'pearl' },
    });
    expect(joined.status).toBe(200);
    const pid: number = joined.body.pid;
    const botRow = page.locator(`#bots tr[data-pid="${pid}"]`);
    await botRow.waitFor({ timeout: 10_000 });
    await expect(botRow.locator('.state').textContent()).resolves.toBe('running');
    await expect(botRow.textContent()).resolves.not.toContain('?t=abc');
    await browser.shot('05-bot-session-running');
    await botRow.getByRole('button', { name: 'Leave' }).click();
    await textBecomes(botRow.locator('.state'), 'ended');
    expect(processAlive(pid)).toBe(false);

    const second = await http('POST', `${proxy.url}/api/bot/join`, {
      json: { room_url: `https://example.daily.co/dash-${randomUUID()}`, bot: 'opal' },
    });
    const row2 = page.locator(`#bots tr[data-pid="${second.body.pid}"]`);
    await row2.waitFor({ timeout: 10_000 });
    await row2.getByRole('button', { name: 'Force stop' }).click();
    await page.locator('#confirm').getByRole('button', { name: 'Force stop' }).click();
    await textBecomes(row2.locator('.state'), 'ended');
    await expect(row2.getByRole('button').count()).resolves.toBe(0);
    await browser.shot('06-bot-sessions-ended');
    // One snapshot when the tab opened; everything after came from the stream.
    expect(listCalls.filter((m) => m === 'GET').length).toBeLessThanOrEqual(1);
  });

  it('generates a room secret shown once', async () => {
    // The tabs follow the ARIA tabs pattern: arrow keys move between them.
    await page.getByRole('tab', { name: 'Bot sessions' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.locator('#tab-rooms').getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('tab-rooms');
    await page.getByLabel('Room id').fill('abc-123-def');
    await page.getByRole('button', { name: 'Generate secret' }).click();
    await page.locator('#room-secret').waitFor();
    const secret = await page.locator('#room-secret-value').inputValue();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    secrets.push(secret);
    await expect(page.locator('#room-secret-env').textContent()).resolves.toBe('PORTCULLIS_ROOM_SECRET_ABC_123_DEF');
    await expect(page.locator('#room-secret').textContent()).resolves.toContain('you will not see this again');
    await browser.shot('07-rooms-secret-once');
    await page.locator('#room-secret').getByRole('button', { name: 'I have stored it' }).click();
    await expect(page.locator('#room-secret-value').inputValue()).resolves.toBe('');
  });

  it('lists signaling rooms and their members, removes a member (its socket closes), and issues an invite a device joins with', async () => {
    const [owner, worker, client, joiner] = await Promise.all(
      ['dash_owner', 'dash_worker', 'dash_client', 'dash_joiner'].map((l) => stack.device(l, 'cust_rooms')),
    );
    const created = await stack.api('POST', '/signaling/rooms', owner.token, { name: 'Lobby room' });
    const roomId: string = created.body.room_id;
    for (const [d, role] of [
      [worker, 'worker'],
      [client, 'client'],
    ] as const) {
      const inv = await stack.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, { role });
      secrets.push(inv.body.room_token);
      expect(
        (await stack.api('POST', '/signaling/rooms/join', d.token, { room_token: inv.body.room_token })).status,
      ).toBe(200);
    }
    const clientSocket = await TestPeer.open(`${stack.wsBase}/signaling/rooms/${roomId}/ws`, client.token);
    sockets.push(clientSocket);
    await clientSocket.next((f) => f.type === 'welcome');

    await page.getByRole('button', { name: 'Load rooms' }).click();
    const roomRow = page.locator('#rooms tbody tr', { hasText: roomId });
    await roomRow.waitFor();
    await expect(roomRow.textContent()).resolves.toContain('Lobby room');
    await expect(roomRow.textContent()).resolves.toContain(owner.id);
    await expect(page.locator('#rooms-error').textContent()).resolves.toBe('');

    await roomRow.getByRole('button', { name: 'Members' }).click();
    await textBecomes(page.locator('#room-detail-id'), roomId);
    const members = page.locator('#members tbody tr');
    await waitFor(async () => (await members.count()) === 3);
    const memberRow = (id: string) => page.locator('#members tbody tr', { hasText: id });
    // Cells: device, role, joined, connected, actions.
    const cells = async (id: string) => (await memberRow(id).locator('td').allTextContents()).filter((_, i) => i !== 2);
    await expect(cells(owner.id)).resolves.toEqual([owner.id, 'owner', 'no', '']);
    await expect(cells(worker.id)).resolves.toEqual([worker.id, 'worker', 'no', 'Remove']);
    await expect(cells(client.id)).resolves.toEqual([client.id, 'client', 'yes', 'Remove']);
    await browser.shot('07a-rooms-members');

    await memberRow(client.id).getByRole('button', { name: 'Remove' }).click();
    const dialog = page.locator('#confirm');
    await expect(dialog.textContent()).resolves.toContain(`Remove ${client.id} from room ${roomId}?`);
    await dialog.getByRole('button', { name: 'Remove' }).click();
    expect(await clientSocket.waitClosed(5000)).toEqual({ code: SignalingClose.removed, reason: 'removed from room' });
    await waitFor(async () => (await members.count()) === 2);
    await expect(memberRow(client.id).count()).resolves.toBe(0);
    const ownerView = await stack.api('GET', `/signaling/rooms/${roomId}/members`, owner.token);
    expect(ownerView.body.map((m: { device_id: string }) => m.device_id)).toEqual([owner.id, worker.id]);

    await page.getByLabel('Invite token role').selectOption('worker');
    await page.getByRole('button', { name: 'Issue invite token' }).click();
    await page.locator('#invite').waitFor();
    const invite = await page.locator('#invite-value').inputValue();
    expect(invite.split('.')).toHaveLength(3);
    secrets.push(invite);
    await browser.shot('07b-rooms-invite-once');
    expect((await stack.api('POST', '/signaling/rooms/join', joiner.token, { room_token: invite })).body).toEqual({
      room_id: roomId,
      role: 'worker',
    });
    // Single use (the page's default): a second device is refused.
    expect((await stack.api('POST', '/signaling/rooms/join', client.token, { room_token: invite })).status).toBe(409);
    await roomRow.getByRole('button', { name: 'Members' }).click();
    await memberRow(joiner.id).waitFor();
    await expect(cells(joiner.id)).resolves.toEqual([joiner.id, 'worker', 'no', 'Remove']);
    await expect(page.locator('#rooms-error').textContent()).resolves.toBe('');
  });

  it('is readable at a phone width with nothing scrolling sideways', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${proxy.url}/dashboard`);
    await phone.locator(`#devices tr[data-device="${deviceId}"]`).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await browser.shot('08-phone-devices', phone);
    await phone.getByRole('tab', { name: 'Bot sessions' }).click();
    await phone.locator('#bots tbody tr').first().waitFor();
    await expect(
      phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).resolves.toBeLessThanOrEqual(0);
    await browser.shot('09-phone-bots', phone);
    await phone.close();
  });

  it("refuses requests a page on another origin makes with the operator's cookie", async () => {
    // Same site (127.0.0.1), other port: the browser sends the SameSite=Strict cookie, so the
    // JSON-only edge, the Origin check and the CSRF token are what stop it.
    const before = (await deviceAuth.admin('GET', '/admin/devices?limit=1000')).body.devices.length;
    const evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><form id="f" method="POST" action="${proxy.url}/dashboard/api/devices" enctype="text/plain">
        <input name='{"customer_id":"evil","x":"' value='"}'></form>
        <script>
          window.results = [];
          const post = (path, body) => fetch('${proxy.url}' + path, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body })
            .then(() => window.results.push(path), (e) => window.results.push(String(e)));
          Promise.all([post('/dashboard/api/devices', '{"customer_id":"evil"}'), post('/dashboard/api/rooms/secret', '{"room_id":"evil"}'),
            fetch('${proxy.url}/dashboard/api/session', { credentials: 'include' }).then((r) => r.text()).then((t) => window.results.push('read:' + t), (e) => window.results.push('read-blocked'))])
            .then(() => { window.done = true; });
        </script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    const attacker = await browser.context.newPage();
    attacker.setDefaultTimeout(10_000);
    try {
      await attacker.goto(evilUrl);
      await attacker.waitForFunction(() => (window as unknown as { done?: boolean }).done === true);
      const results = await attacker.evaluate(() => (window as unknown as { results: string[] }).results);
      expect(results).toContain('read-blocked');
      expect(results.join()).not.toContain('csrf_token');
      await Promise.all([
        attacker.waitForNavigation(),
        attacker.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
      ]);
      // A form can only send text/plain, urlencoded or multipart bodies: the JSON-only edge refuses
      // them before any handler runs, so the form never reaches the Origin and CSRF checks.
      expect(await attacker.content()).toContain('Unsupported Media Type');
    } finally {
      await attacker.close();
      evil.closeAllConnections();
      await new Promise((r) => evil.close(r));
    }
    expect((await deviceAuth.admin('GET', '/admin/devices?limit=1000')).body.devices.length).toBe(before);
    // The three cross-origin posts (two fetches, one form) were each refused at the edge, and logged so.
    const refused = proxy.logs
      .parsed()
      .filter((l) => l.msg === 'request completed')
      .map((l) => l as { req: { method: string; url: string }; res: { statusCode: number } })
      .filter((l) => l.req.method === 'POST' && l.req.url.startsWith('/dashboard/api/') && l.res.statusCode === 415);
    expect(refused.length).toBeGreaterThanOrEqual(3);
  });

  it('signs out, and the page asks to sign in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#sign-in').waitFor();
    await textBecomes(page.locator('#sign-in-error'), 'Signed out.');
    await page.reload();
    await page.locator('#sign-in').waitFor();
    await expect(page.locator('#app').isHidden()).resolves.toBe(true);
    await browser.shot('10-signed-out');
  });

  it('never put the admin key in an answer, and no secret in any log; no CSP violation or script error', async () => {
    await new Promise((r) => setTimeout(r, 200));
    // The only console errors are the expected refusals (wrong key, signed-out reads).
    expect(consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(bodies.length).toBeGreaterThan(20);
    for (const b of bodies) expect(b).not.toContain(deviceAuth.adminKey);
    for (const logs of [proxy.logs.text, deviceAuth.logs.text, bot.logs.text, stack.logs.text]) {
      expect(logs).not.toContain(deviceAuth.adminKey);
      expect(logs).not.toContain(botSecret);
      for (const s of secrets) expect(logs).not.toContain(s);
    }
  });
});
