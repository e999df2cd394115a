# A typical Node.js service Dockerfile as found in the wild.
# expect: BOSUN-DF-002 BOSUN-DF-003 BOSUN-DF-011 BOSUN-DF-022
FROM node:20
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
# expect: BOSUN-DF-006
ENV API_KEY=sk_live_placeholder_not_real NODE_ENV=production
EXPOSE 3000
CMD ["node", "dist/server.js"]
