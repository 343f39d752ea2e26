# migrate_parallel_test.sh — two hubs migrating one empty database at the same moment apply
# each migration exactly once (the advisory lock), and a third run finds nothing to do.
# Real PostgreSQL from tests/run; renkeid --migrate-only as an operator would run it.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db migrate_parallel_test)
export RENKEI_TENANTS_DIR=

for round in 1 2 3; do
	"$RENKEI_BIN_DIR/renkeid" --migrate-only >"$WORK/a.log" 2>&1 &
	a=$!
	"$RENKEI_BIN_DIR/renkeid" --migrate-only >"$WORK/b.log" 2>&1 &
	b=$!
	wait $a || fail "first migrator failed: $(cat "$WORK/a.log")"
	wait $b || fail "second migrator failed: $(cat "$WORK/b.log")"
	applied=$(cat "$WORK/a.log" "$WORK/b.log" | grep -c '"msg":"migration applied"' || true)
	if [[ $round == 1 ]]; then
		latest=$(ls "$RENKEI_SOURCE_DIR"/hub/store/migrations/[0-9][0-9][0-9][0-9]_*.sql | wc -l)
		expect_eq "$applied" "$latest" "round 1: each migration applied once between two hubs"
		# Start the next round on an empty database again.
		RENKEI_PG=$(fresh_db migrate_parallel_test)
	elif [[ $round == 2 ]]; then
		expect_eq "$applied" "$latest" "round 2: again exactly once"
	else
		expect_eq "$applied" 0 "round 3: nothing left to apply"
	fi
done
expect_eq "$(sql "$RENKEI_PG" 'SELECT count(*) = count(DISTINCT version) FROM rk_schema_migration')" t \
	"no version recorded twice"
expect_eq "$(sql "$RENKEI_PG" 'SELECT max(version) FROM rk_schema_migration')" "$latest" \
	"schema at the latest version"
