<?php
// Test client: php client.php SERVERS FUNCTION PAYLOAD [background]
// Foreground: prints the result. Background: prints the job handle.
$client = new GearmanClient();
$client->addServers($argv[1]);
if (($argv[4] ?? "") === "background") {
  $handle = $client->doBackground($argv[2], $argv[3]);
} else {
  $handle = $client->doNormal($argv[2], $argv[3]);
}
if ($client->returnCode() != GEARMAN_SUCCESS) {
  fwrite(STDERR, "client.php: " . $client->error() . " (" . $client->returnCode() . ")\n");
  exit(1);
}
print $handle;
