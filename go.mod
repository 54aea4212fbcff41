module github.com/callcrm/callcrm-go

go 1.23

require (
	github.com/google/go-querystring v1.2.0
	github.com/stretchr/testify v1.12.1
	github.com/svix/svix-webhooks v1.99.1
)

require (
	github.com/google/uuid v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
