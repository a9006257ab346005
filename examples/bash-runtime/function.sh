# The sample function for the bash runtime: handler "function.handler". The event (JSON) is "$1"; what the
# function prints is the result, so log lines go to stderr.
handler() {
  echo "event: $1" >&2
  printf '{"hello":%s}' "$1"
}
