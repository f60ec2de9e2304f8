// Portcullis operator dashboard. No framework, no inline script (the CSP forbids it).
// Data is only ever written with textContent, never as HTML. The CSRF token lives
// in this module's memory; nothing is written to any browser storage.

const API = '/dashboard/api';
let csrf = null;
const $ = (sel) => document.querySelector(sel);

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let res;
  try {
    res = await fetch(`${API}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The dashboard server cannot be reached. Check your connection and try again.');
  }
  if (res.status === 204) return undefined;
  let data;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const detail = data && typeof data.detail === 'string' ? data.detail : `Request failed (status ${res.status})`;
    const err = new ApiError(res.status, sentence(detail));
    if (res.status === 401 && path !== '/session') {
      signedOut('Your session has ended. Sign in again.');
      err.handled = true;
    }
    throw err;
  }
  return data;
}

function sentence(s) {
  const t = String(s).trim();
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function showError(target, err) {
  target.textContent = err ? (err instanceof Error ? err.message : String(err)) : '';
}

/** Runs an action from a button, disabling it meanwhile and showing any error. */
async function act(button, errorTarget, fn) {
  if (button) button.disabled = true;
  showError(errorTarget, null);
  try {
    await fn();
  } catch (err) {
    if (!err.handled) showError(errorTarget, err);
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

function confirmDialog(text, okLabel) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function copyFrom(input, button) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Press Ctrl+C to copy';
  }
  setTimeout(() => (button.textContent = 'Copy'), 2000);
}

/** A one-time value: shown until the operator dismisses it, then wiped from the page. */
function showOnce(box, fields) {
  for (const [sel, value] of Object.entries(fields)) {
    const node = $(sel);
    if (node instanceof HTMLInputElement) node.value = value;
    else node.textContent = value;
  }
  box.hidden = false;
  box.querySelector('input')?.focus();
  box.querySelector('input')?.select();
}

function wipeOnce(box) {
  for (const input of box.querySelectorAll('input[readonly]')) input.value = '';
  box.hidden = true;
}

// ---------- session ----------

function signedOut(message) {
  csrf = null;
  bots.stop();
  for (const box of document.querySelectorAll('.once')) wipeOnce(box);
  $('#app').hidden = true;
  $('#sign-out').hidden = true;
  $('#loading').hidden = true;
  $('#sign-in').hidden = false;
  $('#sign-in-error').textContent = message ?? '';
  $('#api-key').focus();
}

function signedIn(session) {
  csrf = session.csrf_token;
  $('#sign-in').hidden = true;
  $('#loading').hidden = true;
  $('#app').hidden = false;
  $('#sign-out').hidden = false;
  selectTab('devices');
}

$('#sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('#api-key');
  const key = input.value;
  // The key leaves the page in this one request body and is cleared at once.
  input.value = '';
  await act(e.submitter, $('#sign-in-error'), async () => {
    signedIn(await api('POST', '/session', { api_key: key }));
  });
});

$('#sign-out').addEventListener('click', async (e) => {
  await act(e.currentTarget, $('#app-error'), async () => {
    await api('DELETE', '/session');
    signedOut('Signed out.');
  });
});

// ---------- tabs ----------

const TABS = ['devices', 'bots', 'rooms'];

function selectTab(name) {
  for (const t of TABS) {
    const tab = $(`#tab-${t}`);
    const on = t === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#panel-${t}`).hidden = !on;
  }
  showError($('#app-error'), null);
  if (name === 'devices') void devices.load();
  if (name === 'bots') bots.start();
  else bots.stop();
}

for (const t of TABS) $(`#tab-${t}`).addEventListener('click', () => selectTab(t));
document.querySelector('[role=tablist]').addEventListener('keydown', (e) => {
  const i = TABS.findIndex((t) => $(`#tab-${t}`).getAttribute('aria-selected') === 'true');
  let next = null;
  if (e.key === 'ArrowRight') next = TABS[(i + 1) % TABS.length];
  if (e.key === 'ArrowLeft') next = TABS[(i + TABS.length - 1) % TABS.length];
  if (e.key === 'Home') next = TABS[0];
  if (e.key === 'End') next = TABS[TABS.length - 1];
  if (next) {
    e.preventDefault();
    selectTab(next);
    $(`#tab-${next}`).focus();
  }
});

// ---------- devices ----------

const devices = {
  async load() {
    const q = $('#device-search').value.trim();
    const status = $('#device-status').value;
    const qs = new URLSearchParams({ status });
    if (q) qs.set('q', q);
    try {
      const { devices: list } = await api('GET', `/devices?${qs}`);
      this.render(list);
    } catch (err) {
      if (!err.handled) showError($('#app-error'), err);
    }
  },

  render(list) {
    const body = $('#devices tbody');
    body.replaceChildren(
      ...list.map((d) =>
        el(
          'tr',
          { 'data-device': d.device_id },
          el('td', {}, el('code', {}, d.device_id)),
          el('td', {}, d.customer_id),
          el('td', {}, d.name ?? ''),
          el('td', {}, el('span', { class: d.active ? 'badge ok' : 'badge off' }, d.active ? 'active' : 'revoked')),
          el(
            'td',
            { class: 'actions' },
            el(
              'button',
              { type: 'button', on: { click: (e) => this.attempts(d.device_id, e.currentTarget) } },
              'Attempts',
            ),
            el(
              'button',
              { type: 'button', on: { click: (e) => this.rotate(d.device_id, e.currentTarget) } },
              'Rotate secret',
            ),
            d.active
              ? el(
                  'button',
                  { type: 'button', class: 'danger', on: { click: (e) => this.revoke(d.device_id, e.currentTarget) } },
                  'Revoke',
                )
              : el(
                  'button',
                  { type: 'button', on: { click: (e) => this.reactivate(d.device_id, e.currentTarget) } },
                  'Reactivate',
                ),
          ),
        ),
      ),
    );
    $('#devices-empty').hidden = list.length > 0;
  },

  showSecret(d) {
    showOnce($('#device-secret'), { '#device-secret-id': d.device_id, '#device-secret-value': d.device_secret });
  },

  async revoke(id, button) {
    if (
      !(await confirmDialog(
        `Revoke ${id}? Its tokens stop working everywhere at once, and it cannot authenticate until reactivated.`,
        'Revoke',
      ))
    )
      return;
    await act(button, $('#app-error'), async () => {
      await api('POST', `/devices/${encodeURIComponent(id)}/revoke`);
      await this.load();
    });
  },

  async reactivate(id, button) {
    await act(button, $('#app-error'), async () => {
      await api('POST', `/devices/${encodeURIComponent(id)}/reactivate`);
      await this.load();
    });
  },

  async rotate(id, button) {
    if (!(await confirmDialog(`Rotate the secret of ${id}? The current secret stops working at once.`, 'Rotate')))
      return;
    await act(button, $('#app-error'), async () => {
      this.showSecret(await api('POST', `/devices/${encodeURIComponent(id)}/rotate-secret`, { overlap_seconds: 0 }));
      await this.load();
    });
  },

  async attempts(id, button) {
    await act(button, $('#app-error'), async () => {
      const { events } = await api('GET', `/devices/${encodeURIComponent(id)}/audit`);
      const box = $('#attempts');
      $('#attempts-title').textContent = `Recent authentication attempts: ${id}`;
      box
        .querySelector('tbody')
        .replaceChildren(
          ...events.map((ev) =>
            el(
              'tr',
              {},
              el('td', {}, when(ev.at)),
              el('td', {}, ev.action),
              el('td', {}, ev.outcome),
              el('td', {}, ev.reason ?? ''),
              el('td', {}, ev.client_ip ?? ''),
            ),
          ),
        );
      box.querySelector('.attempts-empty').hidden = events.length > 0;
      box.hidden = false;
      box.scrollIntoView({ block: 'nearest' });
    });
  },
};

$('#device-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  void devices.load();
});
$('#device-status').addEventListener('change', () => void devices.load());

$('#register-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const data = Object.fromEntries(new FormData(form));
  await act(e.submitter, $('#app-error'), async () => {
    const d = await api('POST', '/devices', {
      customer_id: data.customer_id,
      device_id: data.device_id || undefined,
      name: data.name || undefined,
    });
    form.reset();
    devices.showSecret(d);
    await devices.load();
  });
});
$('#device-secret-copy').addEventListener('click', (e) => copyFrom($('#device-secret-value'), e.currentTarget));
$('#device-secret-done').addEventListener('click', () => wipeOnce($('#device-secret')));

// ---------- bot sessions (SSE, no polling) ----------

const bots = {
  source: null,
  sessions: new Map(),

  start() {
    if (this.source) return;
    this.sessions.clear();
    this.render();
    const live = $('#bots-live');
    live.textContent = 'connecting…';
    const source = new EventSource(`${API}/bots/events`);
    this.source = source;
    // Subscribe first, then read the snapshot, so nothing between the two is missed.
    source.addEventListener('open', async () => {
      live.textContent = 'live';
      try {
        const { sessions } = await api('GET', '/bots');
        for (const s of sessions)
          if (!this.sessions.has(s.pid) || this.sessions.get(s.pid).state === 'running') this.sessions.set(s.pid, s);
        this.render();
      } catch (err) {
        showError($('#app-error'), err);
      }
    });
    source.addEventListener('error', () => {
      live.textContent = source.readyState === EventSource.CLOSED ? 'disconnected (reload the page)' : 'reconnecting…';
    });
    for (const type of ['started', 'leaving', 'ended', 'failed']) {
      source.addEventListener(type, (m) => {
        let ev;
        try {
          ev = JSON.parse(m.data);
        } catch {
          return;
        }
        const prev = this.sessions.get(ev.pid) ?? {};
        const state = type === 'started' ? 'running' : type;
        this.sessions.set(ev.pid, {
          ...prev,
          pid: ev.pid,
          bot: ev.bot,
          room_url: ev.room_url,
          state,
          started_at: prev.started_at ?? ev.at,
          exit_code: ev.exit_code,
          signal: ev.signal,
        });
        this.render();
      });
    }
  },

  stop() {
    this.source?.close();
    this.source = null;
  },

  render() {
    const list = [...this.sessions.values()].sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
    $('#bots tbody').replaceChildren(
      ...list.map((s) => {
        const live = s.state === 'running' || s.state === 'leaving';
        return el(
          'tr',
          { 'data-pid': String(s.pid) },
          el('td', {}, String(s.pid)),
          el('td', {}, s.bot ?? ''),
          el('td', { class: 'wrap' }, roomLabel(s.room_url)),
          el(
            'td',
            { class: 'state' },
            el(
              'span',
              { class: `badge ${s.state === 'running' ? 'ok' : s.state === 'failed' ? 'bad' : 'off'}` },
              s.state,
            ),
          ),
          el('td', {}, when(s.started_at)),
          el(
            'td',
            { class: 'actions' },
            live && s.state === 'running'
              ? el('button', { type: 'button', on: { click: (e) => this.leave(s.pid, e.currentTarget) } }, 'Leave')
              : '',
            live
              ? el(
                  'button',
                  { type: 'button', class: 'danger', on: { click: (e) => this.forceStop(s.pid, e.currentTarget) } },
                  'Force stop',
                )
              : '',
          ),
        );
      }),
    );
    $('#bots-empty').hidden = list.length > 0;
  },

  async leave(pid, button) {
    await act(button, $('#app-error'), () => api('POST', `/bots/${pid}/leave`));
  },

  async forceStop(pid, button) {
    if (
      !(await confirmDialog(
        `Force-stop bot ${pid}? It is killed at once, without leaving its room cleanly.`,
        'Force stop',
      ))
    )
      return;
    await act(button, $('#app-error'), () => api('POST', `/bots/${pid}/stop`));
  },
};

/** The room URL without its query string (a room token may ride there). */
function roomLabel(url) {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return String(url ?? '');
  }
}

// ---------- rooms ----------

$('#room-secret-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const room = $('#room-secret-room').value.trim();
  await act(e.submitter, $('#app-error'), async () => {
    const r = await api('POST', '/rooms/secret', { room_id: room });
    showOnce($('#room-secret'), {
      '#room-secret-id': r.room_id,
      '#room-secret-value': r.room_secret,
      '#room-secret-env': r.env_var,
    });
  });
});
$('#room-secret-copy').addEventListener('click', (e) => copyFrom($('#room-secret-value'), e.currentTarget));
$('#room-secret-done').addEventListener('click', () => wipeOnce($('#room-secret')));
$('#invite-copy').addEventListener('click', (e) => copyFrom($('#invite-value'), e.currentTarget));

const rooms = {
  current: null,

  async load(button) {
    await act(button, $('#rooms-error'), async () => {
      const data = await api('GET', '/rooms');
      const list = Array.isArray(data) ? data : (data.rooms ?? []);
      $('#rooms tbody').replaceChildren(
        ...list.map((r) =>
          el(
            'tr',
            {},
            el('td', {}, el('code', {}, r.room_id)),
            el('td', {}, r.name ?? ''),
            el('td', {}, r.owner_id ?? ''),
            el('td', {}, when(r.created_at)),
            el(
              'td',
              { class: 'actions' },
              el(
                'button',
                { type: 'button', on: { click: (e) => this.members(r.room_id, e.currentTarget) } },
                'Members',
              ),
            ),
          ),
        ),
      );
    });
  },

  async members(roomId, button) {
    await act(button, $('#rooms-error'), async () => {
      const data = await api('GET', `/rooms/${encodeURIComponent(roomId)}/members`);
      const list = Array.isArray(data) ? data : (data.members ?? []);
      this.current = roomId;
      $('#room-detail-id').textContent = roomId;
      $('#members tbody').replaceChildren(
        ...list.map((m) =>
          el(
            'tr',
            {},
            el('td', {}, el('code', {}, m.device_id)),
            el('td', {}, m.role),
            el('td', {}, when(m.joined_at)),
            el('td', {}, m.connected ? 'yes' : 'no'),
            el(
              'td',
              { class: 'actions' },
              m.role === 'owner'
                ? ''
                : el(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      on: { click: (e) => this.remove(roomId, m.device_id, e.currentTarget) },
                    },
                    'Remove',
                  ),
            ),
          ),
        ),
      );
      wipeOnce($('#invite'));
      $('#room-detail').hidden = false;
    });
  },

  async remove(roomId, deviceId, button) {
    if (!(await confirmDialog(`Remove ${deviceId} from room ${roomId}? Its connection is closed.`, 'Remove'))) return;
    await act(button, $('#rooms-error'), async () => {
      await api('DELETE', `/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(deviceId)}`);
      await this.members(roomId);
    });
  },
};

$('#rooms-load').addEventListener('click', (e) => rooms.load(e.currentTarget));
$('#invite-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!rooms.current) return;
  await act(e.submitter, $('#rooms-error'), async () => {
    const t = await api('POST', `/rooms/${encodeURIComponent(rooms.current)}/tokens`, {
      role: $('#invite-role').value,
      single_use: $('#invite-single').checked,
    });
    showOnce($('#invite'), { '#invite-value': t.room_token, '#invite-expires': when(t.expires_at) });
  });
});

// ---------- start ----------

(async () => {
  try {
    signedIn(await api('GET', '/session'));
  } catch (err) {
    signedOut(err instanceof ApiError && err.status === 401 ? '' : err.message);
  }
})();
