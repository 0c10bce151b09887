module github.com/groq-exporter/groq_exporter

go 1.26.0
