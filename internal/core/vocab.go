package core

import "errors"

// Vocabulary maps this layer's sentinels (ErrNotFound, ErrInvalidOption,
// ...) to a vendor package's own values, so the vendor can declare its
// sentinels itself (go doc shows them, and they are not aliases of
// internal values) while errors made here still match them with errors.Is.
// A Vocabulary is immutable once built; it is safe for concurrent use.
type Vocabulary struct {
	pairs []vocabPair
}

type vocabPair struct{ core, public error }

// NewVocabulary pairs core sentinels with public ones: core1, public1,
// core2, public2, ... It panics on an odd count, a programming error in
// the vendor package caught by its first test.
func NewVocabulary(pairs ...error) *Vocabulary {
	if len(pairs)%2 != 0 {
		panic("core.NewVocabulary: odd number of sentinels")
	}
	v := &Vocabulary{}
	for i := 0; i < len(pairs); i += 2 {
		v.pairs = append(v.pairs, vocabPair{core: pairs[i], public: pairs[i+1]})
	}
	return v
}

// Is reports whether err matches the public sentinel target: whether it
// matches the core sentinel target stands for. Other targets never match.
func (v *Vocabulary) Is(err, target error) bool {
	for _, p := range v.pairs {
		if p.public == target {
			return errors.Is(err, p.core)
		}
	}
	return false
}

// Wrap returns err so that errors.Is also matches the public sentinels its
// core ones stand for. An error that carries no core sentinel (and nil)
// is returned unchanged; errors.As still finds everything err wraps.
func (v *Vocabulary) Wrap(err error) error {
	if err == nil {
		return nil
	}
	for _, p := range v.pairs {
		if errors.Is(err, p.core) {
			return &vocabError{err: err, v: v}
		}
	}
	return err
}

type vocabError struct {
	err error
	v   *Vocabulary
}

func (e *vocabError) Error() string        { return e.err.Error() }
func (e *vocabError) Unwrap() error        { return e.err }
func (e *vocabError) Is(target error) bool { return e.v.Is(e.err, target) }
