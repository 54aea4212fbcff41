package sqldedupe_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/sqldedupe"
	_ "modernc.org/sqlite" // pure-Go SQLite driver
)

// A dedupe store on a SQLite file, opened with the settings it needs (WAL,
// a busy timeout on every connection): a delivery committed once is a
// duplicate afterwards, whichever process or replica on this machine asks.
// On PostgreSQL pass a *sql.DB opened with pgx's stdlib ("pgx") instead.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqldedupe-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "crm.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	store, err := sqldedupe.New(db)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := store.CreateTable(ctx); err != nil {
		fmt.Println(err)
		return
	}
	res, err := store.Reserve(ctx, "sivo/default/evt_1")
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... the callback runs here; the receiver does all of this for you
	// with webhook.WithDedupe(store).
	if err := store.Commit(ctx, res); err != nil {
		fmt.Println(err)
		return
	}
	_, err = store.Reserve(ctx, "sivo/default/evt_1")
	fmt.Println("redelivery is a duplicate:", errors.Is(err, webhook.ErrDuplicate))
	// Output: redelivery is a duplicate: true
}
