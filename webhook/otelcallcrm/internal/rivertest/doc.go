// Package rivertest proves, in a module of its own (so that neither
// webhook/otelcallcrm nor webhook/riverinbox depends on the other), that
// a delivery stored in the River inbox is one trace from the request to
// the job's callback.
package rivertest
