{{/* Name of the chart, used as app.kubernetes.io/name. */}}
{{- define "groq-exporter.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the objects: the release name, plus the chart name unless it already contains it. */}}
{{- define "groq-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "groq-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "groq-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "groq-exporter.labels" -}}
{{ include "groq-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The Secret holding the API key: the existing one, or the one this chart creates. */}}
{{- define "groq-exporter.secretName" -}}
{{- if .Values.apiKey.existingSecret -}}
{{- .Values.apiKey.existingSecret -}}
{{- else if .Values.apiKey.value -}}
{{- include "groq-exporter.fullname" . -}}
{{- else -}}
{{- fail "set apiKey.existingSecret to the name of a Secret holding the Groq API key, or apiKey.value to the key" -}}
{{- end -}}
{{- end -}}
