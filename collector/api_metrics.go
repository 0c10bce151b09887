package collector

import "github.com/prometheus/client_golang/prometheus"

// APIMetrics counts the HTTP calls the groq.Client makes. It is a
// groq.Observer for the client and a prometheus.Collector for the registry.
type APIMetrics struct {
	requests *prometheus.CounterVec
	retries  prometheus.Counter
}

// NewAPIMetrics returns counters for groq_api_requests_total and groq_api_retries_total.
func NewAPIMetrics() *APIMetrics {
	return &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: apiRequestsName,
			Help: "HTTP requests sent to Groq's metrics API, by API endpoint and HTTP status code (\"error\" when no answer arrived).",
		}, []string{"endpoint", "code"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: apiRetriesName,
			Help: "Requests to Groq's metrics API retried after a 429, a 5xx or a transport failure.",
		}),
	}
}

// Request implements groq.Observer.
func (m *APIMetrics) Request(endpoint, code string) { m.requests.WithLabelValues(endpoint, code).Inc() }

// Retry implements groq.Observer.
func (m *APIMetrics) Retry(string) { m.retries.Inc() }

// Describe implements prometheus.Collector.
func (m *APIMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.retries.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *APIMetrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.retries.Collect(ch)
}
