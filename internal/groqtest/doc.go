// Package groqtest stands in for Groq's Prometheus metrics API in tests, benchmarks and the sandbox, and
// holds the test helpers several packages share. It is never part of the exporter binary.
//
// A Gateway speaks Groq's API: its paths below GatewayPrefix, Groq's bearer-key authentication, faults
// injected on demand (error statuses with JSON, HTML, plain or empty bodies, Retry-After, delays, hangs,
// hang-ups, truncated, trickling, endless and echoing bodies), and a log of the calls it received. The
// fake one (NewFake, FakeForTest), which every hermetic test uses, answers from samples it is given:
// synthetic traffic (a Loader's Round, VectorSamples), a recorded answer (RecordedSamples), or samples
// written by hand. The other (NewGateway, GatewayForTest) proxies to a real VictoriaMetrics (the database
// behind Groq's endpoint), into which a Loader writes the synthetic traffic; Prometheus scrapes the
// exporter the way users run it. The series names come from collector.DocumentedSeries.
//
// VictoriaMetrics and squid are Debian packages; Prometheus, promtool and Alertmanager are the pinned
// upstream versions scripts/install-deps.sh builds (tools.go). A missing binary is an error that says how
// to install it, never a reason to skip. Only tests built with the
// integration tag start them.
//
// Every Start function has a ...ForTest variant that fails the test on error and stops the server in
// t.Cleanup. Everything listens on 127.0.0.1 only.
package groqtest
