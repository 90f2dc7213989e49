#include "world_services.hpp"

namespace ecrs::localaws {

bool Ec2Service::handle(const HttpRequest& req, const Responder& respond) {
  if (req.method != "POST" || req.path != "/" || signing_service_of(req) != "ec2") return false;
  AuthFailure failure;
  HttpResponse res;
  res.headers.emplace_back("Content-Type", "text/xml;charset=UTF-8");
  auto account = principals_.authenticate(req, worlds_.region(), "ec2", clock_.now(), &failure);
  const auto form = parse_form(req.body);
  const std::string action = form.count("Action") ? form.at("Action") : "";
  auto error = [&](int status, const std::string& code, const std::string& message) {
    // EC2's own error envelope (not the STS-style ErrorResponse): Response/Errors/Error.
    res.status = status;
    res.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>" + xml_escape(code) +
               "</Code><Message>" + xml_escape(message) +
               "</Message></Error></Errors><RequestID>11111111-2222-3333-4444-555555555555</RequestID></Response>";
    respond(res);
  };
  if (!account) return error(401, "AuthFailure", failure.message), true;
  if (action != "DescribeRegions") return error(400, "InvalidAction", "The action " + action + " is not valid"), true;
  std::string items;
  {
    std::lock_guard lock(worlds_.mutex());
    for (const auto& r : worlds_.enabled_regions) {
      items += "<item><regionName>" + xml_escape(r) + "</regionName><regionEndpoint>ec2." + xml_escape(r) +
               ".amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>";
    }
  }
  res.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeRegionsResponse "
             "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>11111111-2222-3333-4444-555555555555"
             "</requestId><regionInfo>" + items + "</regionInfo></DescribeRegionsResponse>";
  respond(res);
  return true;
}

}  // namespace ecrs::localaws
