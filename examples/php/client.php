<?php
// The seed's Hello World client, as on the slide. Server: argv[1] ("host:port"), else default.
// php-gearman 2.x renamed GearmanClient::do() to doNormal(); use whichever this build has.
$client= new GearmanClient();
if ($argc > 1) { $client->addServers($argv[1]); } else { $client->addServer(); }
$result= method_exists($client, "do") ? $client->do("reverse", "Hello World!")
                                      : $client->doNormal("reverse", "Hello World!");
if ($client->returnCode() != GEARMAN_SUCCESS) {
  fwrite(STDERR, "client.php: " . $client->error() . "\n");
  exit(1);
}
print $result . "\n";
