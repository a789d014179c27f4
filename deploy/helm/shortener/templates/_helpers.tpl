{{/* The release's name for its objects, within Kubernetes' 63 characters. */}}
{{- define "shortener.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* One component's name: (dict "root" $ "component" "url-api"). */}}
{{- define "shortener.name" -}}
{{- printf "%s-%s" (include "shortener.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "shortener.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "shortener.labels" -}}
{{ include "shortener.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "shortener.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .component .root.Values.image.tag -}}
{{- end -}}

{{/* The Secret holding DATABASE_URL and ANALYTICS_RPC_TOKEN. */}}
{{- define "shortener.secretName" -}}
{{- default (include "shortener.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* A variable from the Secret. */}}
{{- define "shortener.secretEnv" -}}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "shortener.secretName" .root }}
      key: {{ .key }}
{{- end -}}

{{/* What every service's container has: logs, traces. */}}
{{- define "shortener.commonEnv" -}}
- name: RUST_LOG
  value: {{ .Values.log | quote }}
{{- with .Values.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The service's YAML: the one the values give, else the one the image ships. */}}
{{- define "shortener.config" -}}
{{- $file := printf "files/%s.yaml" .component -}}
{{- default (.root.Files.Get $file) .config -}}
{{- end -}}

{{/* Probes on the dev server's /healthz (the database, and Kafka where the service uses it):
     readiness takes a replica out of its Service at once; liveness restarts it only after a
     long failure, so that an outage of PostgreSQL does not become a restart storm. */}}
{{- define "shortener.probes" -}}
readinessProbe:
  httpGet: {path: /healthz, port: dev}
  {{- toYaml .root.Values.probes.readiness | nindent 2 }}
livenessProbe:
  httpGet: {path: /healthz, port: dev}
  {{- toYaml .root.Values.probes.liveness | nindent 2 }}
{{- end -}}
