// The carer page (agent/README.md "Carer page"): plain JS, no framework. The kit's carer token comes
// from the address's #token=… (printed by `beepkit agent carer token`; a fragment never reaches a
// server or a log) or the form, is kept for this tab only (sessionStorage) and sent in X-Carer-Token.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const API = 'api/';
  const KEY = 'beepkit-carer-token';
  const WORDS = {
    E_CODE: 'The codes did not match, so nothing was paired. Press Pair to try again.',
    E_TIMEOUT: 'No wearable in pairing mode was found. Put it in pairing mode and press Pair again.',
    E_BUSY: 'A pairing is already in progress.',
    E_STATE: 'There is no pairing to confirm. Press Pair first.',
    E_ABORTED: 'The pairing was cancelled.',
    E_LINK: 'The wearable went out of reach. Bring it closer and try again.',
    E_FORMAT: 'That was not understood: the code is six digits.',
    E_NOT_FOUND: 'That wearable is not paired.',
    E_TOKEN: 'The access token is wrong.',
    E_AUTH: 'The access token is needed.',
  };
  let token = '';
  let last = '';
  let busy = false;

  const say = (text, bad) => {
    $('message').textContent = text;
    $('message').className = bad ? 'bad' : '';
  };

  class ApiError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  async function call(method, path, body) {
    const headers = { 'x-carer-token': token };
    if (method === 'POST') headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + path, { method, headers, body: method === 'POST' ? JSON.stringify(body || {}) : undefined, cache: 'no-store', credentials: 'omit' });
    } catch {
      throw new ApiError('E_IO', 'The kit does not answer.');
    }
    const doc = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(doc.code || 'E_IO', doc.message || `HTTP ${res.status}`);
    return doc;
  }

  const wordsOf = (e) => WORDS[e.code] || `Something went wrong (${e.code}).`;

  function showToken(needed, wrong) {
    $('token-box').hidden = !needed;
    for (const id of ['pair-box', 'people-box', 'alerts-box']) $(id).hidden = needed;
    if (needed && wrong) {
      $('token').setCustomValidity('');
      $('token').value = '';
      $('token').setAttribute('aria-describedby', 'token-h');
      $('token-h').textContent = 'Access — the token was wrong';
    }
  }

  function renderPeople(people) {
    const ul = $('people');
    ul.replaceChildren();
    $('no-people').hidden = people.length > 0;
    for (const p of people) {
      const li = document.createElement('li');
      li.className = 'person';
      const h = document.createElement('h3');
      h.textContent = p.name;
      const sync = document.createElement('p');
      sync.textContent = `Last synced: ${p.lastSyncText}.`;
      const wait = document.createElement('p');
      wait.textContent = p.waiting === null ? 'Records waiting to upload: not known yet.' : `Records waiting to upload: ${p.waiting}.`;
      li.append(h, sync, wait);
      if (p.lastError) {
        const err = document.createElement('p');
        err.textContent = `The last sync did not finish (${p.lastError}).`;
        li.append(err);
      }
      const unpair = document.createElement('button');
      unpair.type = 'button';
      unpair.className = 'quiet';
      unpair.id = `unpair-${p.id}`;
      unpair.textContent = `Unpair ${p.name}`;
      unpair.addEventListener('click', () => askUnpair(li, p, unpair));
      li.append(unpair);
      ul.append(li);
    }
  }

  function askUnpair(li, p, button) {
    busy = true; // no redraw while the question is open
    button.hidden = true;
    const q = document.createElement('p');
    q.textContent = `Unpair ${p.name}? The kit forgets the wearable and its keys.`;
    const yes = document.createElement('button');
    yes.type = 'button';
    yes.id = `unpair-yes-${p.id}`;
    yes.textContent = `Yes, unpair ${p.name}`;
    const no = document.createElement('button');
    no.type = 'button';
    no.className = 'quiet';
    no.textContent = `Keep ${p.name}`;
    no.addEventListener('click', () => {
      q.remove(); yes.remove(); no.remove();
      busy = false;
      button.hidden = false;
      button.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = no.disabled = true;
      say(`Unpairing ${p.name}…`);
      try {
        const r = await call('POST', 'unpair', { wearable: p.id });
        say(r.told ? `${p.name} is unpaired; the wearable was told.` : `${p.name} is unpaired.`);
      } catch (e) {
        say(wordsOf(e), true);
      }
      busy = false;
      await refresh(true);
      $('pair').focus();
    });
    li.append(q, yes, no);
    yes.focus();
  }

  function renderAlerts(alerts) {
    const ul = $('alerts');
    ul.replaceChildren();
    $('no-alerts').hidden = alerts.length > 0;
    for (const a of alerts) {
      const li = document.createElement('li');
      li.className = `alert ${a.level === 'high' ? 'high' : 'low'}`;
      li.textContent = a.text;
      ul.append(li);
    }
  }

  async function refresh(force) {
    if (!token || (busy && !force)) return;
    let s;
    try {
      s = await call('GET', 'state');
    } catch (e) {
      if (e.code === 'E_TOKEN' || e.code === 'E_AUTH') {
        token = '';
        sessionStorage.removeItem(KEY);
        showToken(true, true);
      } else say(wordsOf(e), true);
      return;
    }
    showToken(false);
    const text = JSON.stringify([s.people, s.alerts]);
    if (text === last) return;
    last = text;
    // keep the focus on the control it was on when the list is drawn again
    const focused = document.activeElement && document.activeElement.id;
    renderPeople(s.people);
    renderAlerts(s.alerts);
    if (focused && $(focused) && document.activeElement !== $(focused)) $(focused).focus();
  }

  function endPairing() {
    $('compare').hidden = true;
    $('codes').hidden = true;
    $('pair').disabled = false;
    $('wearable-code').value = '';
    busy = false;
  }

  $('pair-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    busy = true;
    $('pair').disabled = true;
    $('compare').hidden = false;
    $('finding').hidden = false;
    $('codes').hidden = true;
    say('Looking for the wearable…');
    const label = $('pair-name').value.trim();
    try {
      const r = await call('POST', 'pair', label ? { label } : {});
      $('finding').hidden = true;
      $('carer-code').textContent = `${r.code.slice(0, 3)} ${r.code.slice(3)}`;
      $('codes').hidden = false;
      say('Compare the six digits, then type what the wearable shows and press Confirm.');
      $('wearable-code').focus();
    } catch (e) {
      say(wordsOf(e), true);
      endPairing();
      $('pair').focus();
    }
  });

  $('confirm-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const code = $('wearable-code').value.replace(/\s/g, '');
    $('confirm').disabled = true;
    say('Pairing…');
    try {
      const r = await call('POST', 'confirm', { code });
      say(`Paired with ${r.label}.`);
      $('pair-name').value = '';
    } catch (e) {
      say(wordsOf(e), true);
    }
    $('confirm').disabled = false;
    endPairing();
    await refresh(true);
    $('pair').focus();
  });

  $('cancel').addEventListener('click', async () => {
    try {
      await call('POST', 'cancel', {});
      say('The pairing was cancelled.');
    } catch (e) {
      say(wordsOf(e), true);
    }
    endPairing();
    $('pair').focus();
  });

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem(KEY, token);
    void refresh(true);
  });

  const m = /(?:^#|&)token=([0-9a-f]{64})/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, m[1]);
    history.replaceState(null, '', location.pathname);
  }
  token = sessionStorage.getItem(KEY) || '';
  showToken(!token);
  void refresh(true);
  setInterval(() => void refresh(false), 2000);
})();
