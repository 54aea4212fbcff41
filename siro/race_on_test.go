//go:build race

package siro_test

const raceEnabled = true
