module github.com/callcrm/callcrm-go/examples/readme

go 1.26.0

replace github.com/callcrm/callcrm-go => ../..

replace github.com/callcrm/callcrm-go/webhook/riverinbox => ../../webhook/riverinbox

replace github.com/callcrm/callcrm-go/webhook/sqldedupe => ../../webhook/sqldedupe

replace github.com/callcrm/callcrm-go/siro/sirosql => ../../siro/sirosql

require (
	github.com/callcrm/callcrm-go v0.0.0-00010101000000-000000000000
	github.com/callcrm/callcrm-go/siro/sirosql v0.0.0-00010101000000-000000000000
	github.com/callcrm/callcrm-go/webhook/riverinbox v0.0.0-00010101000000-000000000000
	github.com/callcrm/callcrm-go/webhook/sqldedupe v0.0.0-00010101000000-000000000000
	github.com/jackc/pgx/v5 v5.12.0
	github.com/riverqueue/river v0.51.2
	github.com/riverqueue/river/rivertype v0.51.2
)

require (
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/lib/pq v1.12.3 // indirect
	github.com/riverqueue/river/riverdriver v0.51.2 // indirect
	github.com/riverqueue/river/riverdriver/riverdatabasesql v0.51.2 // indirect
	github.com/riverqueue/river/riverdriver/riverpgxv5 v0.51.2 // indirect
	github.com/riverqueue/river/riverdriver/riversqlite v0.51.2 // indirect
	github.com/riverqueue/river/rivershared v0.51.2 // indirect
	github.com/tidwall/gjson v1.20.0 // indirect
	github.com/tidwall/match v1.2.0 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)
