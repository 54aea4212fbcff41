// Package otelcallcrm adapts callcrm-go's observer hooks to OpenTelemetry.
package otelcallcrm
