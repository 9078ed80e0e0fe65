from tinyhttp.router import Router
from tinyhttp.server import Request, Response, Server


def make_server() -> Server:
    r = Router()

    @r.get("/users/{id}")
    def user(req, id):
        return Response(200, f"user {id}".encode())

    @r.post("/echo")
    def echo(req):
        return Response(200, req.body)

    return Server(r)


def test_path_parameters():
    resp = make_server().handle(Request("GET", "/users/42", {}))
    assert resp.status == 200 and resp.body == b"user 42"


def test_unknown_path_is_404():
    assert make_server().handle(Request("GET", "/nope", {})).status == 404


def test_method_must_match():
    assert make_server().handle(Request("GET", "/echo", {})).status == 404


def test_encode_has_content_length():
    raw = Response(200, b"hello").encode()
    assert b"Content-Length: 5" in raw and raw.endswith(b"hello")
