{{/* A service's Deployment, the same for the three: (dict "root" $ "component" NAME
     "values" ITS_VALUES "env" EXTRA_ENV_YAML "ports" PORTS "replicas" BOOL). Each runs the
     image's binary on the mounted YAML, as non-root on a read-only root filesystem. */}}
{{- define "shortener.deployment" -}}
{{- $root := .root -}}
{{- $values := .values -}}
{{- $ctx := dict "root" $root "component" .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shortener.name" $ctx }}
  labels:
    {{- include "shortener.labels" $ctx | nindent 4 }}
spec:
  {{- if .replicas }}
  replicas: {{ $values.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "shortener.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "shortener.labels" $ctx | nindent 8 }}
      annotations:
        # A changed configuration rolls the pods.
        checksum/config: {{ include "shortener.config" (merge (dict "config" $values.config) $ctx) | sha256sum }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      # Longer than a service's drain (10 s) and the flush of what it holds after it.
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .component }}
          image: {{ include "shortener.image" $ctx }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["--config", "/etc/shortener/{{ .component }}.yaml"]
          env:
            {{- include "shortener.secretEnv" (dict "root" $root "key" "DATABASE_URL") | nindent 12 }}
            {{- .env | nindent 12 }}
            {{- include "shortener.commonEnv" $root | nindent 12 }}
          ports:
            {{- toYaml .ports | nindent 12 }}
          {{- include "shortener.probes" . | nindent 10 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/shortener, readOnly: true}
      volumes:
        - name: config
          configMap:
            name: {{ include "shortener.name" $ctx }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* A service's PodDisruptionBudget: (dict "root" $ "component" NAME "values" ITS_VALUES). */}}
{{- define "shortener.pdb" -}}
{{- $ctx := dict "root" .root "component" .component -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "shortener.name" $ctx }}
  labels:
    {{- include "shortener.labels" $ctx | nindent 4 }}
spec:
  minAvailable: {{ .values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "shortener.selectorLabels" $ctx | nindent 6 }}
{{- end -}}
