// Requests: what a server does. N concurrent tasks each handle requests one after another:
// decode a few KiB of JSON with Foundation, await (as a handler awaits a database or the
// network), total the items by tag in a dictionary, build the response string. With a region,
// each request runs in `await Region.enter(Chunk(64 KiB) { Mmap() })`: its memory dies at once
// when it ends.
import Foundation
import Regions

struct Item: Codable {
  var id: Int
  var name: String
  var tags: [String]
  var price: Double
}

/// The request body every handler decodes: 48 items, about 4 KiB of JSON.
let requestBody: Data = {
  let words = ["alpha", "beta", "gamma", "delta", "region", "layer", "chunk", "stack"]
  let items = (0..<48).map { index in
    Item(
      id: index, name: "item number \(index) of the request",
      tags: [words[index % 8], words[(index * 3) % 8]],
      price: Double(index) * 1.25)
  }
  return try! JSONEncoder().encode(items)
}()

/// One request: the response's length (so nothing is optimized away).
func handle(_ body: Data) async -> Int {
  let items = try! JSONDecoder().decode([Item].self, from: body)
  await Task.yield()
  var totals: [String: Double] = [:]
  for item in items {
    for tag in item.tags { totals[tag, default: 0] += item.price }
  }
  let response = totals.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    .joined(separator: "&")
  return response.utf8.count + items.count
}

/// `tasks` concurrent tasks, each handling `requests` requests; a region per request with
/// `.region(.chunk)`.
func runRequests(_ placement: Placement, tasks: Int, requests: Int) async -> Int {
  let body = requestBody
  _ = await handle(body)  // warm-up: the decoder's caches, outside every region
  let perRequestRegion = placement == .region(.chunk)
  if placement != .ground && !perRequestRegion {
    _writeToStandardError("allocbench: requests runs a region per request: use --stack chunk\n")
    exit(2)
  }
  return await withTaskGroup(of: Int.self) { group in
    for _ in 0..<tasks {
      group.addTask {
        var total = 0
        for _ in 0..<requests {
          if perRequestRegion {
            total &+= await Region.enter(Chunk(65536) { Mmap() }) { await handle(body) }
          } else {
            total &+= await handle(body)
          }
        }
        return total
      }
    }
    return await group.reduce(0, &+)
  }
}
