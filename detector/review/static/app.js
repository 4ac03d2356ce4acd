// gouji review: keyboard shortcuts and verdict posting. The page is rendered by the server; this script only
// moves the focus between finding cards and sends verdicts (with the CSRF token of the page's meta tag).
(function () {
  'use strict';
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var cards = Array.prototype.slice.call(document.querySelectorAll('article.finding'));
  var current = -1;
  var LABELS = { confirmed: '确认', dismissed: '误报', unsure: '待定' };

  function setCurrent(i) {
    if (!cards.length) { return; }
    i = Math.max(0, Math.min(cards.length - 1, i));
    if (current >= 0 && cards[current]) { cards[current].classList.remove('current'); }
    current = i;
    cards[i].classList.add('current');
    cards[i].scrollIntoView({ block: 'nearest' });
  }

  function showProgress(p) {
    Object.keys(p || {}).forEach(function (k) {
      var el = document.getElementById('count-' + k);
      if (el) { el.textContent = String(p[k]); }
    });
  }

  function post(card, payload) {
    payload.fingerprint = card.getAttribute('data-fingerprint');
    card.classList.add('saving');
    return fetch('/api/verdict', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
      body: JSON.stringify(payload)
    }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    }).then(function (data) {
      card.classList.remove('saving', 'failed');
      card.setAttribute('data-verdict', data.verdict || '');
      var state = card.querySelector('.verdict-state');
      if (state) { state.textContent = '结论：' + (LABELS[data.verdict] || '未审'); }
      card.setAttribute('data-saved', '1');
      showProgress(data.progress);
    }).catch(function (err) {
      card.classList.remove('saving');
      card.classList.add('failed');
      var state = card.querySelector('.verdict-state');
      if (state) { state.textContent = '保存失败 save failed: ' + err.message; }
    });
  }

  function setVerdict(card, verdict) {
    var box = card.querySelector('textarea.comment');
    return post(card, { verdict: verdict, comment: box ? box.value : null });
  }

  cards.forEach(function (card, i) {
    card.addEventListener('click', function () { setCurrent(i); });
    Array.prototype.forEach.call(card.querySelectorAll('button[data-set]'), function (b) {
      b.addEventListener('click', function () { setVerdict(card, b.getAttribute('data-set')); });
    });
    var save = card.querySelector('button.save-comment');
    var box = card.querySelector('textarea.comment');
    if (save && box) {
      save.addEventListener('click', function () { post(card, { comment: box.value }); });
      // a comment typed and left is saved too: leaving the box fires 'change' when the text changed
      box.addEventListener('change', function () { post(card, { comment: box.value }); });
    }
  });

  document.querySelectorAll('form.filters select').forEach(function (sel) {
    sel.addEventListener('change', function () { sel.form.submit(); });
  });

  document.addEventListener('keydown', function (e) {
    var tag = (e.target && e.target.tagName) || '';
    if (tag === 'TEXTAREA' || tag === 'INPUT' || tag === 'SELECT') {
      if (e.key === 'Escape') { e.target.blur(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || !cards.length) { return; }
    var verdicts = { c: 'confirmed', d: 'dismissed', u: 'unsure' };
    if (e.key === 'j' && current === cards.length - 1) {
      var next = document.querySelector('.pager a[data-next]');  // past the last card: the next page
      if (next) { window.location.href = next.getAttribute('href'); }
      e.preventDefault();
    }
    else if (e.key === 'j') { setCurrent(current + 1); e.preventDefault(); }
    else if (e.key === 'k') { setCurrent(current - 1); e.preventDefault(); }
    else if (verdicts[e.key]) {
      if (current < 0) { setCurrent(0); }
      var card = cards[current];
      setVerdict(card, verdicts[e.key]).then(function () { setCurrent(current + 1); });
      e.preventDefault();
    }
  });

  if (cards.length) { setCurrent(0); }
})();
