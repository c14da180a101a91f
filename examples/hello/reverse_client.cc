// The seed's Hello World, client side: prints "!dlroW olleH".
// Usage: reverse_client [servers] [text]   (default: $GEARMAN_SERVERS or localhost)
#include <iostream>

#include "gearbox/gearbox.h"

int main(int argc, char** argv) {
  auto client = gearbox::Client::Create({.servers = argc > 1 ? argv[1] : ""});
  if (!client) {
    std::cerr << "reverse_client: " << client.error().message() << "\n";
    return 1;
  }
  auto result = client->Do("reverse", argc > 2 ? argv[2] : "Hello World!",
                           {.timeout = std::chrono::seconds(30)});
  if (!result) {
    std::cerr << "reverse_client: " << result.error().message() << "\n";
    return 1;
  }
  std::cout << *result << "\n";
  return 0;
}
