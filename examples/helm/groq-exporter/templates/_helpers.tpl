{{/* Name of the chart, used as app.kubernetes.io/name: nameOverride or the chart's name. */}}
{{- define "groq-exporter.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the objects: fullnameOverride, else the release name, plus the name unless the
release name already contains it. */}}
{{- define "groq-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "groq-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "groq-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "groq-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The labels of every object: the standard ones, then commonLabels. */}}
{{- define "groq-exporter.labels" -}}
helm.sh/chart: {{ include "groq-exporter.chart" . }}
{{ include "groq-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: groq-exporter
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount the pod runs as. */}}
{{- define "groq-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "groq-exporter.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The image: repository:tag, with @digest when image.digest is set. */}}
{{- define "groq-exporter.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the single organization's API key: the existing one, or the one this chart creates. */}}
{{- define "groq-exporter.secretName" -}}
{{- if .Values.apiKey.existingSecret -}}
{{- .Values.apiKey.existingSecret -}}
{{- else if .Values.apiKey.value -}}
{{- include "groq-exporter.fullname" . -}}
{{- else -}}
{{- fail "set apiKey.existingSecret to the name of a Secret holding the Groq API key, or apiKey.value to the key" -}}
{{- end -}}
{{- end -}}

{{/* Where the Secrets and files are mounted in the container. */}}
{{- define "groq-exporter.keyDir" -}}/etc/groq-exporter/key{{- end -}}
{{- define "groq-exporter.configDir" -}}/etc/groq-exporter/config{{- end -}}
{{- define "groq-exporter.webDir" -}}/etc/groq-exporter/web{{- end -}}
{{- define "groq-exporter.tlsDir" -}}/etc/groq-exporter/tls{{- end -}}
{{- define "groq-exporter.orgDir" -}}/etc/groq-exporter/organizations{{- end -}}
{{- define "groq-exporter.caDir" -}}/etc/groq-exporter/ca{{- end -}}

{{/* The Secret holding one organization's key: its existing one, or one this chart creates. */}}
{{- define "groq-exporter.orgSecretName" -}}
{{- $org := .org -}}
{{- if $org.existingSecret -}}
{{- $org.existingSecret -}}
{{- else if $org.apiKey -}}
{{- printf "%s-org-%s" (include "groq-exporter.fullname" .root) ($org.name | lower | replace "_" "-" | replace "." "-") | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- fail (printf "organization %q: set existingSecret to a Secret holding its Groq API key, or apiKey to the key" $org.name) -}}
{{- end -}}
{{- end -}}

{{/* The configuration file, or nothing when no part of config is set. */}}
{{- define "groq-exporter.config" -}}
{{- $cfg := dict -}}
{{- with .Values.config.builtin }}{{ $_ := set $cfg "builtin" . }}{{ end -}}
{{- with .Values.config.queries }}{{ $_ := set $cfg "queries" . }}{{ end -}}
{{- if .Values.config.organizations -}}
{{- $orgs := list -}}
{{- $names := dict -}}
{{- range .Values.config.organizations -}}
{{- if not .name -}}{{- fail "every entry of config.organizations needs a name" -}}{{- end -}}
{{- if hasKey $names .name -}}{{- fail (printf "config.organizations: %q appears twice" .name) -}}{{- end -}}
{{- $_ := set $names .name true -}}
{{- $o := dict "name" .name "api_key_file" (printf "%s/%s/%s" (include "groq-exporter.orgDir" $) .name (.secretKey | default "api-key")) -}}
{{- with .url }}{{ $_ := set $o "url" . }}{{ end -}}
{{- with .http_client_config }}{{ $_ := set $o "http_client_config" . }}{{ end -}}
{{- $orgs = append $orgs $o -}}
{{- end -}}
{{- $_ := set $cfg "organizations" $orgs -}}
{{- end -}}
{{- if $cfg }}{{ toYaml $cfg }}{{ end -}}
{{- end -}}

{{/* The exporter-toolkit web configuration, or nothing without TLS and basic auth. */}}
{{- define "groq-exporter.webConfig" -}}
{{- $web := dict -}}
{{- if .Values.web.tls.enabled -}}
{{- if not .Values.web.tls.existingSecret -}}{{- fail "web.tls.enabled needs web.tls.existingSecret, a kubernetes.io/tls Secret" -}}{{- end -}}
{{- $_ := set $web "tls_server_config" (dict "cert_file" (printf "%s/tls.crt" (include "groq-exporter.tlsDir" .)) "key_file" (printf "%s/tls.key" (include "groq-exporter.tlsDir" .))) -}}
{{- end -}}
{{- if .Values.web.basicAuth.enabled -}}
{{- if not .Values.web.basicAuth.users -}}{{- fail "web.basicAuth.enabled needs web.basicAuth.users (user name to bcrypt hash)" -}}{{- end -}}
{{- $_ := set $web "basic_auth_users" .Values.web.basicAuth.users -}}
{{- end -}}
{{- if $web }}{{ toYaml $web }}{{ end -}}
{{- end -}}

{{- define "groq-exporter.scheme" -}}
{{- if .Values.web.tls.enabled }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/* The Service's address, which /sd gives as its targets' (--web.external-address). */}}
{{- define "groq-exporter.externalAddress" -}}
{{ include "groq-exporter.fullname" . }}.{{ .Release.Namespace }}.svc:{{ .Values.service.port }}
{{- end -}}

{{/* TLS settings and credentials of a ScrapeConfig's discovery and scrapes, as the ServiceMonitor's. */}}
{{- define "groq-exporter.scrapeAuth" -}}
{{- if and .Values.web.tls.enabled .Values.serviceMonitor.tlsConfig }}
tlsConfig:
  {{- toYaml .Values.serviceMonitor.tlsConfig | nindent 2 }}
{{- end }}
{{- if .Values.web.basicAuth.enabled }}
basicAuth:
  username:
    name: {{ .Values.web.basicAuth.scrapeSecret }}
    key: {{ .Values.web.basicAuth.usernameKey }}
  password:
    name: {{ .Values.web.basicAuth.scrapeSecret }}
    key: {{ .Values.web.basicAuth.passwordKey }}
{{- end }}
{{- end }}
