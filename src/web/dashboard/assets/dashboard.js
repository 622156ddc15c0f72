// The dashboard's only behaviour on every page: the phone menu and copy buttons. Pages work without it.
(function () {
  document.documentElement.classList.add('js');
  document.addEventListener('DOMContentLoaded', function () {
    var toggle = document.querySelector('.nav-toggle');
    var nav = document.getElementById('nav');
    if (toggle && nav) {
      toggle.addEventListener('click', function () {
        var open = nav.classList.toggle('open');
        toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      });
    }
    document.querySelectorAll('button[data-copy]').forEach(function (button) {
      button.addEventListener('click', function () {
        var label = button.textContent;
        navigator.clipboard.writeText(button.getAttribute('data-copy')).then(
          function () { button.textContent = 'Copied'; },
          function () { button.textContent = 'Copy failed'; }
        );
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
})();
