/** The console's frame: navigation and the view the location's hash names (`#/tokens?status=paused`). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { OtpDialog } from './components/otp';
import { Anomalies } from './views/anomalies';
import { Config } from './views/config';
import { Overview } from './views/overview';
import { TokenPage } from './views/token';
import { Tokens } from './views/tokens';

const NAV = [
  { href: '#/', label: 'Overview', view: '' },
  { href: '#/tokens', label: 'Tokens', view: 'tokens' },
  { href: '#/anomalies', label: 'Anomalies', view: 'anomalies' },
  { href: '#/config', label: 'Quotas & settings', view: 'config' },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

export function App() {
  const hash = useHash();
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [view = '', id] = path.split('/').map(decodeURIComponent);
  const query = new URLSearchParams(search);

  const first = useRef(true);
  useEffect(() => {
    // After a change of view, focus goes to its content, so keyboard and screen-reader users land there.
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus();
  }, [view, id]);

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => (event.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">logfire-broker</span>
        <nav aria-label="Views">
          {NAV.map((item) => (
            <a key={item.href} href={item.href} aria-current={item.view === view ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {view === '' && <Overview />}
        {view === 'tokens' && (id ? <TokenPage tokenId={id} /> : <Tokens query={query} />)}
        {view === 'anomalies' && <Anomalies />}
        {view === 'config' && <Config />}
        {!['', 'tokens', 'anomalies', 'config'].includes(view) && (
          <p>
            No such view. <a href="#/">Overview</a>
          </p>
        )}
      </main>
      <OtpDialog />
    </>
  );
}
