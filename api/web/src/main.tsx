import { lazy, StrictMode, Suspense, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { Carbon } from "./pages/Carbon";
import { Exchange } from "./pages/Exchange";
import { Feed } from "./pages/Feed";
import { Governance } from "./pages/Governance";
import { OperatorPage, Operators } from "./pages/Operators";
import { Overview } from "./pages/Overview";
import "./styles.css";

// viem is most of the bundle: only the wallet page loads it (governance, once its wallet is used).
// The other pages are static imports: React 19 throttles revealing a suspended page by 300 ms.
const Wallet = lazy(() => import("./pages/Wallet").then((m) => ({ default: m.Wallet })));


// Hash routes (#/feed/<id>) keep every page a static file the API can serve.
function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function App() {
  const [page, arg] = useRoute();
  let body;
  if (page === "feed" && arg) body = <Feed key={arg} id={arg} />;
  else if (page === "operators") body = <Operators />;
  else if (page === "operator" && arg) body = <OperatorPage key={arg} id={arg} />;
  else if (page === "wallet")
    body = (
      <Suspense fallback={<p aria-busy="true">Loading the wallet…</p>}>
        <Wallet />
      </Suspense>
    );
  else if (page === "governance") body = <Governance />;
  else if (page === "exchange") body = <Exchange />;
  else if (page === "carbon") body = <Carbon />;
  else body = <Overview />;
  const current = page ?? "";
  const link = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header>
        <span className="brand">Gridcast</span>
        <nav aria-label="Main">
          {link("#/", "Overview", current === "" || current === "feed")}
          {link("#/operators", "Operators", current.startsWith("operator"))}
          {link("#/exchange", "Exchange", current === "exchange")}
          {link("#/carbon", "Carbon", current === "carbon")}
          {link("#/governance", "Governance", current === "governance")}
          {link("#/wallet", "Wallet", current === "wallet")}
          <a href="/graphql">GraphQL</a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
