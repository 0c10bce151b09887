// Package groqtest runs real servers for testing groq_exporter against something that behaves like Groq's
// Prometheus metrics API.
//
// VictoriaMetrics (the database behind Groq's endpoint) holds the series, a Loader writes Groq-shaped
// synthetic traffic into it, a Gateway serves VictoriaMetrics' Prometheus HTTP API under Groq's path with
// Groq's bearer-key authentication and injectable faults, and Prometheus scrapes the exporter the way users
// run it. The servers are the Debian packages victoria-metrics and prometheus; a missing binary is an error
// that names the package to install, never a reason to skip.
//
// Every Start function has a ...ForTest variant that fails the test on error and stops the server in
// t.Cleanup. Everything listens on 127.0.0.1 only.
package groqtest
