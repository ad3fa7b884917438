# help: the default goal lists every target documented with a `## ` comment.

.PHONY: help
help: ## List the targets, a line each (the default goal)
	@printf 'Usage: make TARGET [VAR=value ...]   e.g. make docker_build TAG=1.2.3\n\nTargets:\n'
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_.-]+:.*## / { printf "  %-20s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
