# Shared by install.sh and upgrade.sh: copy a source tree into a new release folder.
# shellcheck shell=bash

# make_release SOURCE PREFIX DATA: copy SOURCE to PREFIX/releases/<UTC time>, link its
# var/ to DATA (database, uploads, backups live outside the code), point PREFIX/app at
# it, keep the three newest releases; print the release's path.
make_release() {
  local source=$1 prefix=$2 data=$3 release
  release="$prefix/releases/$(date -u +%Y%m%dT%H%M%SZ)"
  install -d -m 0755 "$release"
  rsync -a --delete --exclude .git --exclude .venv --exclude var --exclude node_modules \
    --exclude '__pycache__' "$source/" "$release/"
  ln -sfn "$data" "$release/var"
  chown -R root:root "$release"
  ln -sfn "$release" "$prefix/app.new"
  mv -T "$prefix/app.new" "$prefix/app"
  # shellcheck disable=SC2012 # release names are UTC stamps: no odd characters
  ls -1d "$prefix"/releases/*/ | sort | head -n -3 | xargs -r rm -rf
  echo "$release"
}
