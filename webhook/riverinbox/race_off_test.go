//go:build !race

package riverinbox

const raceEnabled = false
