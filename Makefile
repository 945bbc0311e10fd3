# Thin wrapper for those who reach for make; npm scripts stay the source of truth.
.PHONY: install lint type-check test run doctor build image up down

install:
	npm ci
	# npm does not run lefthook's install script; enable the pre-commit hooks explicitly.
	-npx lefthook install

lint:
	npm run lint

type-check:
	npm run typecheck

test:
	npm test

run:
	npm start

doctor:
	node bin/devbot.js doctor

build:
	npm run build

image:
	docker build -t devbot:local .

up:
	docker compose up -d --build

down:
	docker compose down
